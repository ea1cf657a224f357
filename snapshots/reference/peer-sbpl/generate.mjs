// Writes the Seatbelt profile the npm srt generates for a settings file, as the reference
// profiles here were made: the platform is faked as darwin, the cwd is /Users/dev/project and
// HOME is /Users/dev (none of which need exist), and the profile is the argument after `-p` of
// the wrapped command.
//
//   node generate.mjs CONFIG.json > OUT.sb
//
// SRT_PACKAGE names the npm package's directory (default: /work/peer/node_modules/@anthropic-ai/sandbox-runtime).
import os from 'os';
import fs from 'fs';

const pkg = process.env.SRT_PACKAGE ?? '/work/peer/node_modules/@anthropic-ai/sandbox-runtime';
Object.defineProperty(process, 'platform', { value: 'darwin' });
process.cwd = () => '/Users/dev/project';
os.homedir = () => '/Users/dev';
process.env.HOME = '/Users/dev';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { SandboxManager } = await import(`${pkg}/dist/index.js`);
await SandboxManager.initialize(config);
const wrapped = await SandboxManager.wrapWithSandbox('echo hi');
const quoted = wrapped.match(/sandbox-exec -p '((?:[^']|'"'"')*)'/);
if (!quoted) {
  console.error(`no profile in: ${wrapped}`);
  process.exit(1);
}
process.stdout.write(quoted[1].replaceAll(`'"'"'`, `'`).replaceAll(pkg, '<srt-package>'));
await SandboxManager.reset();
process.exit(0);
