import { DeviceUnavailableError } from './errors.ts';

const loaded = new Map<string, Promise<unknown>>();

/**
 * Loads an optional native package on first use, so the engine, the CLI and the tests run where it is missing or
 * cannot load (no prebuild, wrong ABI, missing libusb/libpcsclite). The name is a variable on purpose: bundlers
 * leave the import alone and the package stays outside the bundle.
 */
export function loadNative<T>(name: string, what: string): Promise<T> {
  let module = loaded.get(name);
  if (!module) {
    module = import(name).then(
      (m: { default?: unknown }) => m,
      (error: unknown) => {
        loaded.delete(name);
        throw new DeviceUnavailableError(
          what,
          `${name} could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
    loaded.set(name, module);
  }
  return module as Promise<T>;
}
