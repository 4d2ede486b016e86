import { explainToken } from '../../engine/token-explainer.ts';
import type { HandlerGroup } from '../handler-types.ts';

/** zod gives absent optional fields as `undefined`; the engine's types (exactOptionalPropertyTypes) want them absent. */
const defined = <T extends object>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };

export const engineeringHandlers: HandlerGroup<
  'engineering.issue' | 'engineering.keyChange' | 'tokens.explain'
> = {
  'engineering.issue': ({ requestId, meterNumber, token }, { engine, session }) =>
    engine.engineeringToken(session, { requestId, meterNumber, token: defined(token) }),
  'engineering.keyChange': ({ requestId, meterNumber, to }, { engine, session }) =>
    engine.keyChange(session, { requestId, meterNumber, ...(to ? { to: defined(to) } : {}) }),
  'tokens.explain': ({ meterNumber, token }, { engine, session }) =>
    explainToken(engine, session, { meterNumber, token }),
};
