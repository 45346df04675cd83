#!/usr/bin/env node
// The checkout's launcher: runs the TypeScript sources through tsx's loader, so an edit is live at
// once and tests never run a stale build. The installed package does not use this file: its bin
// is dist/cli/main.js, compiled by `npm run build` (run by `npm pack`), on plain Node.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
