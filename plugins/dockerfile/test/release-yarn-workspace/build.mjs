// The packages' build: src/ copied to dist/ (run in the package directory).
import { cpSync } from 'node:fs';

cpSync('src', 'dist', { recursive: true });
