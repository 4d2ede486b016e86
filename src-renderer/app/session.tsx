import { useQueryClient } from '@tanstack/react-query';
import i18next from 'i18next';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { MethodResult } from '../../src-shared/bridge/contract.ts';
import type { Permission } from '../../src-shared/vending/roles.ts';
import { useBridge } from './bridge-context.tsx';
import { isLanguage } from './locale.ts';
import { rememberLanguage } from './preferences.ts';

export type OperatorView = MethodResult<'auth.login'>['operator'];

export interface Session {
  operator: OperatorView;
  permissions: readonly Permission[];
}

interface SessionContextValue {
  session: Session | null;
  /** Why the operator is back at the login screen: their session timed out. */
  expired: boolean;
  login(username: string, password: string): Promise<Session>;
  logout(): Promise<void>;
  can(permission: Permission): boolean;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/**
 * The logged-in operator. The session token lives only in memory (in the bridge client): a reload asks for the
 * password again. Logging in switches to the operator's language; logout and expiry drop every cached query.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useBridge();
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(null);
  const [expired, setExpired] = useState(false);

  useEffect(
    () =>
      client.onSessionExpired(() => {
        setSession(null);
        setExpired(true);
        queryClient.clear();
      }),
    [client, queryClient],
  );

  const login = useCallback(
    async (username: string, password: string) => {
      const result = await client.call('auth.login', { username, password });
      client.setSession(result.session);
      queryClient.clear();
      if (isLanguage(result.operator.language) && result.operator.language !== i18next.resolvedLanguage) {
        await i18next.changeLanguage(result.operator.language);
        rememberLanguage(result.operator.language);
      }
      const next: Session = { operator: result.operator, permissions: result.permissions };
      setExpired(false);
      setSession(next);
      return next;
    },
    [client, queryClient],
  );

  const logout = useCallback(async () => {
    try {
      await client.call('auth.logout', {});
    } catch {
      // Already gone on the engine side (expired, engine restarted): logging out locally is what matters.
    }
    client.setSession(null);
    queryClient.clear();
    setExpired(false);
    setSession(null);
  }, [client, queryClient]);

  const value = useMemo<SessionContextValue>(
    () => ({
      session,
      expired,
      login,
      logout,
      can: (permission) => session?.permissions.includes(permission) ?? false,
    }),
    [session, expired, login, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
