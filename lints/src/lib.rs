//! The lint catalogue (see the lints issue): a registry of lints over the spanned settings and the IR.
