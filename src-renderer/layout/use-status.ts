import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { bridgeQueryKey, useBridgeQuery } from '../app/bridge-context.tsx';

export const STATUS_POLL_MS = 5_000;

/**
 * The status bar's data (operator, shift, float, sync), one cached query shared by every caller. Only the status
 * bar (always mounted after login) polls it, so there is one request every 5 s however many screens read it.
 */
export function useStatus({ poll = false }: { poll?: boolean } = {}) {
  return useBridgeQuery('status.get', {}, poll ? { refetchInterval: STATUS_POLL_MS, staleTime: 0 } : {});
}

/** After a sale, a shift change or a reversal: refresh the status bar at once rather than at the next poll. */
export function useRefreshStatus() {
  const queryClient = useQueryClient();
  return useCallback(
    () => queryClient.invalidateQueries({ queryKey: bridgeQueryKey('status.get') }),
    [queryClient],
  );
}
