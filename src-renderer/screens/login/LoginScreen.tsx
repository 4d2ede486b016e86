import { type FormEvent, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppInfo } from '../../app/app-info.ts';
import { errorCode } from '../../app/errors.ts';
import { useSession } from '../../app/session.tsx';
import { Button, ErrorNotice, Notice, TextField } from '../../components/index.ts';
import { LanguageSwitcher } from '../../layout/LanguageSwitcher.tsx';

/** Operator and password. Wrong password and lockout come back from the engine and are shown as they are. */
export function LoginScreen() {
  const { t } = useTranslation('common');
  const { data: info } = useAppInfo();
  const { login, expired } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const [missing, setMissing] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const usernameRef = useRef<HTMLInputElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    if (!username.trim() || !password) {
      setMissing(true);
      (username.trim() ? passwordRef : usernameRef).current?.focus();
      return;
    }
    setPending(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (caught) {
      setError(caught);
      setPassword('');
      // A wrong password is retyped; a locked or disabled operator needs someone else.
      if (errorCode(caught) === 'AUTH_FAILED') passwordRef.current?.focus();
      setPending(false);
    }
  };

  return (
    <main className="ov-login">
      <div className="ov-login__card">
        <div className="ov-login__head">
          <div>
            <h1 className="ov-login__title">{t('login.title')}</h1>
            {info ? (
              <p className="ov-login__outlet">
                {info.outlet.name} · {info.utility.name}
              </p>
            ) : null}
          </div>
          <LanguageSwitcher loggedIn={false} className="ov-login__language" />
        </div>
        {expired ? (
          <Notice tone="warning" live="status" title={t('login.expiredTitle')}>
            {t('login.expiredText')}
          </Notice>
        ) : null}
        <form className="ov-login__form" onSubmit={(event) => void submit(event)} noValidate>
          <TextField
            label={t('login.username')}
            value={username}
            onChange={setUsername}
            autoComplete="username"
            autoFocus
            name="username"
            inputRef={usernameRef}
            errorMessage={missing && !username.trim() ? t('login.usernameMissing') : null}
          />
          <TextField
            label={t('login.password')}
            type="password"
            value={password}
            onChange={setPassword}
            autoComplete="current-password"
            name="password"
            inputRef={passwordRef}
            errorMessage={missing && !password ? t('login.passwordMissing') : null}
          />
          <ErrorNotice error={error} title={t('login.failedTitle')} />
          <Button type="submit" variant="primary" size="large" isPending={pending} shortcut="Enter">
            {pending ? t('login.submitting') : t('login.submit')}
          </Button>
        </form>
        {info?.demo ? (
          <Notice tone="info" title={t('login.demoTitle')}>
            {t('login.demoText')}
          </Notice>
        ) : null}
        {info ? <p className="ov-login__version">{t('login.version', { version: info.version })}</p> : null}
      </div>
    </main>
  );
}
