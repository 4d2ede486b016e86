import {
  type QueryKey,
  type UseMutationOptions,
  type UseQueryOptions,
  useMutation,
  useQuery,
} from '@tanstack/react-query';
import { createContext, type ReactNode, useContext } from 'react';
import type { MethodArgs, MethodName, MethodResult } from '../../src-shared/bridge/contract.ts';
import type { BridgeCallError, BridgeClient } from '../bridge/client.ts';

/**
 * Server state comes from the engine through TanStack Query: every read is `useBridgeQuery(method, args)`
 * (cached under [method, args], refetched after mutations invalidate it), every write `useBridgeMutation`.
 */

const BridgeContext = createContext<BridgeClient | null>(null);

export function BridgeProvider({ client, children }: { client: BridgeClient; children: ReactNode }) {
  return <BridgeContext.Provider value={client}>{children}</BridgeContext.Provider>;
}

export function useBridge(): BridgeClient {
  const client = useContext(BridgeContext);
  if (!client) throw new Error('useBridge outside BridgeProvider');
  return client;
}

export const bridgeQueryKey = <M extends MethodName>(method: M, args?: MethodArgs<M>): QueryKey =>
  args === undefined ? [method] : [method, args];

export function useBridgeQuery<M extends MethodName>(
  method: M,
  args: MethodArgs<M>,
  options: Omit<UseQueryOptions<MethodResult<M>, BridgeCallError>, 'queryKey' | 'queryFn'> = {},
) {
  const client = useBridge();
  return useQuery<MethodResult<M>, BridgeCallError>({
    queryKey: bridgeQueryKey(method, args),
    queryFn: () => client.call(method, args),
    ...options,
  });
}

export function useBridgeMutation<M extends MethodName>(
  method: M,
  options: Omit<UseMutationOptions<MethodResult<M>, BridgeCallError, MethodArgs<M>>, 'mutationFn'> = {},
) {
  const client = useBridge();
  return useMutation<MethodResult<M>, BridgeCallError, MethodArgs<M>>({
    mutationFn: (args) => client.call(method, args),
    ...options,
  });
}

/**
 * A fresh id for a money- or token-moving call (vend.sell, sales.reverse, engineering…). Create it when the
 * operator confirms and keep it for retries of that same action: the engine then answers exactly once.
 */
export const newRequestId = (): string => crypto.randomUUID();
