import { cleanup } from './post-cleanup.js';

void cleanup();
