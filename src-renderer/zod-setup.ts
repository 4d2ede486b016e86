import { config } from 'zod';

// The renderer runs under a CSP without 'unsafe-eval': zod must not probe `new Function` for its fast path.
// Imported first by main.tsx, before any module that builds schemas (the bridge contract).
config({ jitless: true });
