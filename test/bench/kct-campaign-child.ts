// Runs the real `openvend sts kct-campaign` command in a fresh process and reports its peak memory.
import { runCli } from '../../src-main/cli/main.ts';

const [metersPath, keysPath, outPath] = process.argv.slice(2);
const writeStdout = process.stdout.write.bind(process.stdout);
let printed = '';
process.stdout.write = ((chunk: string) => {
  printed += chunk;
  return true;
}) as typeof process.stdout.write;
const code = await runCli([
  'node',
  'openvend',
  'sts',
  'kct-campaign',
  '--meters',
  metersPath!,
  '--keys',
  keysPath!,
  '--out',
  outPath!,
  '--no-progress',
]);
process.stdout.write = writeStdout;
writeStdout(
  `${JSON.stringify({ code, summary: JSON.parse(printed), maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
