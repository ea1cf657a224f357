//! The macOS backend: Seatbelt (SBPL) profile (see the `compile --target macos` issue).
