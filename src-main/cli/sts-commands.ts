import { randomInt } from 'node:crypto';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import {
  type ConformanceResult,
  runConformanceVector,
  SUPPORTED_KINDS,
} from '../../src-shared/sts/conformance.ts';
import {
  decodeRequestSchema,
  executeDecodeRequest,
  executeDecoderKeyRequest,
  executeKeyChangeRequest,
  executeTokenRequest,
  keyChangeRequestSchema,
  meterKeySpecSchema,
  type RequestContext,
  tokenRequestSchema,
} from '../../src-shared/sts/engineering-requests.ts';
import {
  KCT_CAMPAIGN_INPUT_COLUMNS,
  KCT_CAMPAIGN_OUTPUT_COLUMNS,
} from '../../src-shared/sts/kct-campaign.ts';
import { runKctCampaign } from '../sts/kct-campaign-runner.ts';
import { CliInputError, EXIT, printJson, readJsonInput } from './io.ts';

const systemContext: RequestContext = {
  now: () => new Date(),
  randomNibble: () => randomInt(16),
};

/** Lists a request schema's fields with their descriptions, so `--help` documents the JSON request. */
function describeFields(schema: z.ZodObject): string {
  const lines = Object.entries(schema.shape).map(([name, field]) => {
    const optional = field instanceof z.ZodOptional;
    const description = (field as z.ZodType).description ?? '';
    return `  ${name}${optional ? '' : ' (required)'}${description ? `: ${description}` : ''}`;
  });
  return `\nRequest fields (JSON object):\n${lines.join('\n')}\n`;
}

const requestOption = () =>
  new Option('-r, --request <file>', 'JSON request file; "-" or omitted reads standard input');

export function registerStsCommands(program: Command, setExitCode: (code: number) => void): void {
  const sts = program
    .command('sts')
    .description('STS token engine (IEC 62055-41): engineering and conformance tools. JSON in, JSON out.');

  sts
    .command('token')
    .description(
      'Generate one token (credit, currency credit, test/display or management) from a JSON request',
    )
    .addOption(requestOption())
    .addHelpText(
      'after',
      `${describeFields(tokenRequestSchema)}
Give the meter key either as "decoderKey" (+ "ea", "baseDate") or as "vendingKey" + "dkga" + "pan" (or "iin"+"drn")
+ "keyType" + "sgc" + "ti" + "krn" + "baseDate" + "ea". Class 2 subclasses 3, 4, 8, 9 are key change sections: use
"openvend sts key-change".

Example:
  echo '{"vendingKey":"abababababababab","dkga":"DKGA02","pan":"600727000000000009","keyType":2,"sgc":"123456",
         "ti":"01","krn":1,"class":0,"subclass":0,"rnd":5,"issuedAt":"2004-03-01T13:55","units":1}' | openvend sts token`,
    )
    .action(async (options: { request?: string }) => {
      printJson(executeTokenRequest(await readJsonInput(options.request, 'token request'), systemContext));
    });

  sts
    .command('key-change')
    .description(
      'Generate the key change token set (2 tokens for 64-bit keys, 4 for EA11) from the current key to a new one',
    )
    .addOption(requestOption())
    .addHelpText(
      'after',
      `${describeFields(keyChangeRequestSchema)}
"current" and "next" are meter key specs with these fields:
${describeFields(meterKeySpecSchema)}`,
    )
    .action(async (options: { request?: string }) => {
      printJson(executeKeyChangeRequest(await readJsonInput(options.request, 'key change request')));
    });

  sts
    .command('decode')
    .description(
      "Decode a token with the meter's decoder key (or the inputs to derive it); the CRC is verified",
    )
    .addOption(requestOption())
    .addHelpText('after', describeFields(decodeRequestSchema))
    .action(async (options: { request?: string }) => {
      printJson(executeDecodeRequest(await readJsonInput(options.request, 'decode request')));
    });

  sts
    .command('decoder-key')
    .description(
      'Derive a decoder key (DKGA02/DKGA04) and print its key check value; the key itself only with --reveal',
    )
    .addOption(requestOption())
    .option('--reveal', 'also print the decoder key in hex (treat the output as secret)', false)
    .addHelpText('after', describeFields(meterKeySpecSchema))
    .action(async (options: { request?: string; reveal: boolean }) => {
      const request = await readJsonInput(options.request, 'decoder key request');
      printJson(executeDecoderKeyRequest(request, { reveal: options.reveal }));
    });

  sts
    .command('vectors')
    .description(
      'Run a conformance vector file (format of shared/fixtures/sts-vectors.json); exit 0 only when all pass',
    )
    .argument('<file>', 'JSON array of vectors')
    .option('--json', 'print the full results as JSON', false)
    .option('--failures-only', 'print only the vectors that fail', false)
    .addHelpText('after', `\nSupported kinds: ${SUPPORTED_KINDS.join(', ')}\n`)
    .action(async (file: string, options: { json: boolean; failuresOnly: boolean }) => {
      const vectors = await readJsonInput(file, 'vector');
      if (!Array.isArray(vectors))
        throw new CliInputError('The vector file must hold a JSON array of vectors.');
      const results = vectors.map(runConformanceVector);
      const failed = results.filter((r) => !r.pass).length;
      const summary = { vectors: results.length, passed: results.length - failed, failed };
      if (options.json) printJson({ summary, results });
      else printVectorReport(results, options.failuresOnly, summary);
      setExitCode(failed === 0 && results.length > 0 ? EXIT.ok : EXIT.failed);
    });

  sts
    .command('kct-campaign')
    .description(
      'Bulk key change tokens for a TID roll-over or supply-group migration; streams any number of meters',
    )
    .requiredOption('--meters <file>', 'input CSV with a header row, one meter per row')
    .requiredOption(
      '--keys <file>',
      'vending keys JSON: {"vendingKeys":[{"dkga","sgc","krn","key"}]}; keep it owner-only',
    )
    .requiredOption('--out <file>', 'output CSV (written to FILE.partial, renamed when complete)')
    .option('--no-progress', 'no progress line on a terminal')
    .addHelpText(
      'after',
      `
Input columns: ${KCT_CAMPAIGN_INPUT_COLUMNS.join(', ')}
  new_* columns that are empty or absent keep the present value; new_ken defaults to 255; RO is set when the
  base date changes; dkga defaults to DKGA02 for EA07/EA09 and DKGA04 for EA11.
Output columns: ${KCT_CAMPAIGN_OUTPUT_COLUMNS.join(', ')}
  A row that cannot be processed is written with status "rejected" and the reason; the exit code is then 1.`,
    )
    .action(async (options: { meters: string; keys: string; out: string; progress: boolean }) => {
      const keys = await readJsonInput(options.keys, 'vending key');
      const summary = await runKctCampaign({
        metersPath: options.meters,
        outPath: options.out,
        vendingKeys: keys,
        progress: options.progress && process.stderr.isTTY === true ? process.stderr : undefined,
      });
      printJson(summary);
      setExitCode(summary.rejected === 0 ? EXIT.ok : EXIT.failed);
    });
}

function formatValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function printVectorReport(
  results: ConformanceResult[],
  failuresOnly: boolean,
  summary: { vectors: number; passed: number; failed: number },
): void {
  const out: string[] = [];
  for (const result of results) {
    if (failuresOnly && result.pass) continue;
    out.push(`${result.pass ? 'PASS' : 'FAIL'}  ${result.id}  (${result.kind})`);
    for (const [field, value] of Object.entries(result.computed))
      out.push(`      ${field} = ${formatValue(value)}`);
    for (const mismatch of result.mismatches) {
      out.push(
        `      ✗ ${mismatch.field}: expected ${formatValue(mismatch.expected)}, computed ${formatValue(mismatch.computed)}`,
      );
    }
    for (const [field, reason] of Object.entries(result.notAsserted))
      out.push(`      (not asserted: ${field}: ${reason})`);
    if (result.error) out.push(`      ✗ error ${result.error.code}: ${result.error.message}`);
  }
  out.push(`${summary.vectors} vectors: ${summary.passed} passed, ${summary.failed} failed`);
  process.stdout.write(`${out.join('\n')}\n`);
}
