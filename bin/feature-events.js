#!/usr/bin/env node
// The `feature-events` command (package.json "bin"). It loads tsx in this process, as
// `node --import tsx` does for `npm start`, and then the TypeScript CLI: one process, so a
// signal or a kill reaches the command itself (the tsx CLI would fork a child).
import 'tsx';

await import('../src/cli/main.ts');
