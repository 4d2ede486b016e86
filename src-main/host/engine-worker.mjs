// Development entry of the engine thread: registers tsx in this worker, then runs the TypeScript entry.
// (Packaged builds bundle engine-worker.ts with esbuild and start the bundle directly.)
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
