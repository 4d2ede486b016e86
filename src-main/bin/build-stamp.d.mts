export function sourceHash(root: string, inputs: readonly string[]): string;
export function stampIsCurrent(stampFile: string, root: string, inputs: readonly string[]): boolean;
export function writeStamp(stampFile: string, hash: string): void;
export const CLI_BUNDLE_INPUTS: readonly string[];
export function cliBundleIsCurrent(root: string): boolean;
export function buildCliBundle(root: string): Promise<void>;
