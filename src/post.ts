import { cleanup } from './main.js';

void cleanup();
