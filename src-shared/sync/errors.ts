import { OpenVendError } from '../errors/openvend-error.ts';

/**
 * What the outlet does with a refusal:
 * - `retry`: transient (network, server busy, clock skew, replayed nonce): try again later, with backoff;
 * - `resend`: the server is at another sequence: resend from the server's last sequence + 1;
 * - `rejected`: retrying cannot help (bad batch, revoked or quarantined device, incompatible version):
 *   the affected events go to the local quarantine and uploads stop until a supervisor acts.
 */
export type SyncErrorClass = 'retry' | 'resend' | 'rejected';

/** Every refusal the protocol knows: HTTP status, class and a message an outlet supervisor can read. */
export const SYNC_ERRORS = {
  SYNC_MALFORMED: {
    status: 400,
    class: 'rejected',
    message: 'The server could not read what this outlet sent.',
  },
  SYNC_BODY_TOO_LARGE: { status: 413, class: 'rejected', message: 'The upload is too large for the server.' },
  SYNC_UNSIGNED: { status: 401, class: 'rejected', message: 'The request carries no device signature.' },
  SYNC_SIGNATURE_INVALID: {
    status: 401,
    class: 'rejected',
    message: 'The request signature does not match this device.',
  },
  SYNC_CLOCK_SKEW: {
    status: 401,
    class: 'retry',
    message: "This computer's clock is more than 5 minutes off. Correct the date and time.",
  },
  SYNC_REPLAYED: { status: 401, class: 'retry', message: 'The server has already seen this request.' },
  SYNC_DEVICE_UNKNOWN: {
    status: 401,
    class: 'rejected',
    message: 'The server does not know this outlet. Enroll it again with a new code.',
  },
  SYNC_DEVICE_REVOKED: {
    status: 403,
    class: 'rejected',
    message: 'This outlet has been revoked by head office. Contact your administrator.',
  },
  SYNC_DEVICE_QUARANTINED: {
    status: 403,
    class: 'rejected',
    message: 'Head office has stopped accepting uploads from this outlet until a supervisor checks it.',
  },
  SYNC_VERSION_UNSUPPORTED: {
    status: 426,
    class: 'rejected',
    message:
      'This version of OpenVend cannot sync with the server. Install the version head office asks for.',
  },
  SYNC_SEQ_GAP: { status: 409, class: 'resend', message: 'The server expects an earlier batch first.' },
  SYNC_BATCH_TAMPERED: {
    status: 422,
    class: 'rejected',
    message: 'A sealed batch does not match its seal; head office has been alerted.',
  },
  SYNC_CHAIN_BROKEN: {
    status: 422,
    class: 'rejected',
    message: 'The batch does not follow the last one head office received; head office has been alerted.',
  },
  SYNC_ENROLL_CODE_INVALID: {
    status: 403,
    class: 'rejected',
    message: 'The enrollment code is wrong, already used or expired. Ask head office for a new one.',
  },
  SYNC_API_KEY_INVALID: {
    status: 401,
    class: 'rejected',
    message: 'The API key is missing, wrong or revoked. Ask head office for a key.',
  },
  SYNC_NOT_FOUND: { status: 404, class: 'rejected', message: 'The server does not offer this.' },
  SYNC_SERVER_ERROR: {
    status: 500,
    class: 'retry',
    message: 'The server had a problem; the upload will be retried.',
  },
  SYNC_UNAVAILABLE: {
    status: 503,
    class: 'retry',
    message: 'The server cannot be reached; uploads will be retried.',
  },
  // Raised by the outlet itself (status 0: never sent by a server).
  SYNC_NOT_ENROLLED: {
    status: 0,
    class: 'rejected',
    message: 'This outlet is not enrolled with a sync server yet (openvend sync enroll).',
  },
  SYNC_ALREADY_ENROLLED: {
    status: 0,
    class: 'rejected',
    message: 'This outlet is already enrolled. To move it to a new device identity, enroll with --replace.',
  },
  // Retried: nothing is sent to a server that fails the pin.
  SYNC_SERVER_IDENTITY: {
    status: 0,
    class: 'retry',
    message: 'The server presented a different certificate than the one this outlet trusts.',
  },
} as const satisfies Record<string, { status: number; class: SyncErrorClass; message: string }>;

export type SyncErrorCode = keyof typeof SYNC_ERRORS;

export const isSyncErrorCode = (code: string): code is SyncErrorCode => Object.hasOwn(SYNC_ERRORS, code);

export class SyncError extends OpenVendError {
  declare readonly code: SyncErrorCode;
  readonly errorClass: SyncErrorClass;
  readonly status: number;
  /** SYNC_SEQ_GAP: the last batch sequence the server holds for this device. */
  readonly lastSeq: number | undefined;

  constructor(code: SyncErrorCode, detail: string, options: { lastSeq?: number; userMessage?: string } = {}) {
    const spec = SYNC_ERRORS[code];
    super(code, options.userMessage ?? spec.message, detail);
    this.errorClass = spec.class;
    this.status = spec.status;
    this.lastSeq = options.lastSeq;
  }
}

/** The SyncError a server's error body describes (an unknown code becomes a generic retry or refusal). */
export function syncErrorFromResponse(
  status: number,
  body: { error: { code: string; message: string; lastSeq?: number | undefined } },
): SyncError {
  const code = body.error.code;
  if (!isSyncErrorCode(code)) {
    return new SyncError(status >= 500 ? 'SYNC_SERVER_ERROR' : 'SYNC_MALFORMED', `HTTP ${status} ${code}`);
  }
  return new SyncError(code, `HTTP ${status}: ${body.error.message}`, {
    ...(body.error.lastSeq !== undefined ? { lastSeq: body.error.lastSeq } : {}),
  });
}
