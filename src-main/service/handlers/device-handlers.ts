import { deviceServiceOf } from '../../devices/device-service.ts';
import type { HandlerGroup } from '../handler-types.ts';

/** Devices: settings, status, receipt printing and card writing/reading (src-main/devices/README.md). */
export const deviceHandlers: HandlerGroup<
  | 'devices.list'
  | 'devices.configure'
  | 'devices.remove'
  | 'devices.status'
  | 'devices.testPrint'
  | 'devices.jobs'
  | 'receipt.print'
  | 'card.write'
  | 'card.read'
  | 'card.cancel'
> = {
  'devices.list': (_args, context) => deviceServiceOf(context).list(),
  'devices.configure': ({ config, psc }, context) =>
    deviceServiceOf(context).configure(context.session, config, psc),
  'devices.remove': async ({ role }, context) => {
    await deviceServiceOf(context).remove(context.session, role);
    return { ok: true };
  },
  'devices.status': async ({ role }, context) => ({ statuses: await deviceServiceOf(context).status(role) }),
  'devices.testPrint': (_args, context) => deviceServiceOf(context).testPrint(context.session),
  'devices.jobs': ({ receiptNo }, context) => ({ jobs: deviceServiceOf(context).jobs(receiptNo) }),
  'receipt.print': ({ receiptNo, copy }, context) =>
    deviceServiceOf(context).printReceipt(context.session, receiptNo, copy),
  'card.write': ({ receiptNo, carrier }, context) =>
    deviceServiceOf(context).writeCard(context.session, receiptNo, carrier),
  'card.read': (_args, context) => deviceServiceOf(context).readCard(),
  'card.cancel': (_args, context) => deviceServiceOf(context).cancelCard(),
};
