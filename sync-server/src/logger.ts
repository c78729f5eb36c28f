// Structured logs (pino: JSON lines, cheap when a level is off). Tokens, passwords and authorization headers are
// redacted by path; the relay never passes frame payloads to the logger at all, only sizes and ids.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { svc: 'kyozo-sync' },
    redact: {
      paths: [
        'token',
        'password',
        'invite',
        '*.token',
        '*.password',
        '*.invite',
        'req.headers.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}
