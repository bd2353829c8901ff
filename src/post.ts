import { run } from './post-cleanup.js';

void run();
