// Write coalescing with the in-process WebSocket transport (the tests: test/helpers/coalescing-suite.ts).
import { test } from 'uvu';
import { coalescingTests } from '../helpers/coalescing-suite.js';

coalescingTests();

test.run();
