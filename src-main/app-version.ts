import { readFileSync } from 'node:fs';

/**
 * The product version (recorded with each applied migration). Bundles for the desktop app get it compiled in
 * (esbuild `define`); run from source, it comes from package.json.
 */
export const APP_VERSION: string =
  process.env.OPENVEND_BUNDLED_VERSION ??
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
