// Worker threads do not inherit the main thread's `--import tsx` hooks (Node 20), so each client worker registers
// tsx itself before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
