import { useState } from 'react';
import type { CardOperationView, DeviceRole } from '../../../src-shared/bridge/device-schemas.ts';
import { useBridge, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';

/**
 * Which device roles are set on this computer (devices.list). Until the answer arrives a role counts as not set,
 * so the on-screen preview is the fallback, never a silent nothing.
 */
export function useConfiguredRoles(enabled = true): (role: DeviceRole) => boolean {
  const list = useBridgeQuery('devices.list', {}, { enabled, staleTime: 30_000, retry: false });
  return (role) => {
    const view = list.data?.devices.find((device) => device.role === role);
    return view !== undefined && view.state !== 'not-configured';
  };
}

/**
 * The card operation in progress (swipe, insert…), polled from devices.status while a card call waits for a
 * person; null when none or not yet known.
 */
export function useCardPhase(waiting: boolean): CardOperationView['phase'] | null {
  const status = useBridgeQuery(
    'devices.status',
    {},
    { enabled: waiting, refetchInterval: waiting ? 1000 : false, retry: false, gcTime: 0 },
  );
  if (!waiting) return null;
  return status.data?.statuses.find((entry) => entry.operation !== null)?.operation?.phase ?? null;
}

/** card.read with its Cancel (card.cancel): the meter card swipe on the vend screen and in the device settings. */
export function useCardRead(onRead?: (meterNo: string) => void) {
  const read = useBridgeMutation('card.read', {
    onSuccess: (result) => onRead?.(result.meterNo),
  });
  const cancel = useCardCancel();
  return { read, cancel };
}

/** card.cancel; the pending card call then fails with DEVICE_CANCELLED, which callers show as a plain notice. */
export function useCardCancel() {
  const client = useBridge();
  const [cancelling, setCancelling] = useState(false);
  const cancel = () => {
    setCancelling(true);
    void client
      .call('card.cancel', {})
      .catch(() => undefined)
      .finally(() => setCancelling(false));
  };
  return { cancel, cancelling };
}

export const isCancelled = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'DEVICE_CANCELLED';
