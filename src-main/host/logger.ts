import pino from 'pino';

/** JSON logs on stderr (stdout is for the CLI's own output). Never pass keys or passwords in a log record. */
export function createLogger(level: string = process.env.OPENVEND_LOG_LEVEL ?? 'info') {
  return pino({ level, base: { app: 'openvend' } }, pino.destination(2));
}
