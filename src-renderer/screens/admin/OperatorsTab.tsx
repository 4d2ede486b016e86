import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodArgs, OperatorRowView } from '../../../src-shared/bridge/contract.ts';
import { ROLES, type Role } from '../../../src-shared/vending/roles.ts';
import { useFormat } from '../../app/app-info.ts';
import { bridgeQueryKey, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { useSession } from '../../app/session.tsx';
import {
  Button,
  type DataColumn,
  DataTable,
  Dialog,
  DialogActions,
  ErrorNotice,
  Notice,
  Select,
  TextField,
} from '../../components/index.ts';
import { CheckBox } from './CheckBox.tsx';
import { useEdit } from './use-edit.ts';

const MIN_PASSWORD = 8;

const isLocked = (row: OperatorRowView, now = Date.now()) =>
  row.lockedUntil !== null && new Date(row.lockedUntil).getTime() > now;

/** Password and its repeat, checked the same way when adding an operator and when resetting a password. */
function passwordProblem(
  password: string,
  repeat: string,
  required: boolean,
): 'short' | 'mismatch' | 'missing' | null {
  if (!password && !repeat) return required ? 'missing' : null;
  if (password.length < MIN_PASSWORD) return 'short';
  if (password !== repeat) return 'mismatch';
  return null;
}

/** Operators: who may log in, with which role; add, edit, unlock, reset a password. */
export function OperatorsTab() {
  const { t } = useTranslation('admin');
  const { dateTime } = useFormat();
  const list = useBridgeQuery('operators.list', {});
  const [selected, setSelected] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const rows = list.data ?? [];
  const selectedRow = rows.find((row) => row.username === selected) ?? null;

  const columns: DataColumn<OperatorRowView>[] = [
    {
      id: 'username',
      label: t('operators.column.username'),
      isRowHeader: true,
      render: (row) => row.username,
    },
    { id: 'name', label: t('operators.column.name'), render: (row) => row.displayName },
    { id: 'role', label: t('operators.column.role'), render: (row) => t(`common:role.${row.role}`) },
    {
      id: 'state',
      label: t('operators.column.state'),
      render: (row) => (
        <span className="ov-admin-badges">
          {row.active ? (
            <span className="ov-badge ov-badge--success">{t('operators.active')}</span>
          ) : (
            <span className="ov-badge ov-badge--danger">{t('operators.inactive')}</span>
          )}
          {isLocked(row) && row.lockedUntil ? (
            <span className="ov-badge ov-badge--warning">
              {t('operators.lockedUntil', { time: dateTime(row.lockedUntil) })}
            </span>
          ) : null}
        </span>
      ),
    },
  ];

  return (
    <div className="ov-admin-split">
      <div className="ov-admin-split__list">
        <div className="ov-actions">
          <Button variant="primary" onPress={() => setAdding(true)}>
            {t('operators.add')}
          </Button>
        </div>
        {added ? (
          <Notice tone="success" live="status">
            {t('operators.addedText', { username: added })}
          </Notice>
        ) : null}
        <ErrorNotice
          error={list.error}
          title={t('operators.loadFailed')}
          onRetry={() => void list.refetch()}
        />
        <DataTable
          label={t('operators.tableLabel')}
          columns={columns}
          rows={rows}
          rowKey={(row) => row.username}
          selectedKey={selected}
          onSelectionChange={(key) => {
            setAdded(null);
            setSelected(key);
          }}
          emptyText={list.isPending ? t('loading') : t('operators.empty')}
          className="ov-admin-table"
        />
      </div>
      <div className="ov-admin-split__detail">
        {selectedRow ? (
          <OperatorEditor key={selectedRow.username} operator={selectedRow} />
        ) : (
          <div className="ov-panel">
            <p className="ov-muted">{t('operators.selectHint')}</p>
          </div>
        )}
      </div>
      {adding ? (
        <AddOperatorDialog
          onClose={() => setAdding(false)}
          onAdded={(username) => {
            setAdding(false);
            setAdded(username);
            setSelected(username);
          }}
        />
      ) : null}
    </div>
  );
}

type OperatorUpdate = MethodArgs<'operators.update'>;

function OperatorEditor({ operator }: { operator: OperatorRowView }) {
  const { t } = useTranslation('admin');
  const { dateTime } = useFormat();
  const { session } = useSession();
  const queryClient = useQueryClient();
  const self = session?.operator.id === operator.id;
  const [displayName, setDisplayName] = useState(operator.displayName);
  const [role, setRole] = useState<Role>(operator.role);
  const [active, setActive] = useState(operator.active);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [tried, setTried] = useState(false);
  const save = useBridgeMutation('operators.update', {
    onSuccess: () => {
      setPassword('');
      setRepeat('');
      setTried(false);
      void queryClient.invalidateQueries({ queryKey: bridgeQueryKey('operators.list') });
    },
  });
  const edit = useEdit(save);

  const changes: OperatorUpdate = { username: operator.username };
  if (displayName.trim() !== operator.displayName) changes.displayName = displayName.trim();
  if (role !== operator.role) changes.role = role;
  if (active !== operator.active) changes.active = active;
  if (password) changes.password = password;
  const changed = Object.keys(changes).length > 1;
  const nameMissing = !displayName.trim();
  const pwProblem = passwordProblem(password, repeat, false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (nameMissing || pwProblem || !changed || save.isPending) return;
    save.mutate(changes);
  };

  const locked = isLocked(operator);
  return (
    <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-admin-operator-title">
      <h2 id="ov-admin-operator-title">{t('operators.editTitle', { username: operator.username })}</h2>
      {locked && operator.lockedUntil ? (
        <Notice tone="warning" title={t('operators.lockedTitle')}>
          <p>{t('operators.lockedText', { time: dateTime(operator.lockedUntil) })}</p>
          <div className="ov-notice__actions">
            <Button
              onPress={() => {
                if (!save.isPending) save.mutate({ username: operator.username, unlock: true });
              }}
              isPending={save.isPending && save.variables?.unlock === true}
            >
              {t('operators.unlock')}
            </Button>
          </div>
        </Notice>
      ) : null}
      <TextField
        label={t('operators.field.displayName')}
        value={displayName}
        onChange={edit(setDisplayName)}
        maxLength={120}
        autoComplete="off"
        errorMessage={tried && nameMissing ? t('operators.nameMissing') : null}
      />
      <Select<Role>
        label={t('operators.field.role')}
        options={ROLES.map((id) => ({ id, label: t(`common:role.${id}`) }))}
        value={role}
        onChange={edit(setRole)}
        isDisabled={self}
        description={self ? t('operators.selfHint') : t('operators.roleHint')}
      />
      <CheckBox
        isSelected={active}
        onChange={edit(setActive)}
        isDisabled={self}
        description={t('operators.activeHint')}
      >
        {t('operators.field.active')}
      </CheckBox>
      <fieldset className="ov-fieldset ov-form">
        <legend>{t('operators.resetTitle')}</legend>
        <p className="ov-muted ov-admin-note">{t('operators.resetHint')}</p>
        <TextField
          label={t('operators.field.newPassword')}
          type="password"
          value={password}
          onChange={edit(setPassword)}
          autoComplete="new-password"
          errorMessage={
            tried && pwProblem === 'short' ? t('operators.passwordShort', { min: MIN_PASSWORD }) : null
          }
        />
        <TextField
          label={t('operators.field.repeatPassword')}
          type="password"
          value={repeat}
          onChange={edit(setRepeat)}
          autoComplete="new-password"
          errorMessage={tried && pwProblem === 'mismatch' ? t('operators.passwordMismatch') : null}
        />
      </fieldset>
      <ErrorNotice error={save.error} title={t('operators.saveFailed')} />
      {save.data && !save.isPending ? (
        <Notice tone="success" live="status" title={t('saved')}>
          {save.variables?.unlock ? t('operators.unlocked') : null}
          {save.variables?.password ? t('operators.passwordReset') : null}
        </Notice>
      ) : null}
      {tried && !changed && !save.data ? <Notice tone="info">{t('nothingChanged')}</Notice> : null}
      <div className="ov-actions">
        <Button type="submit" variant="primary" isPending={save.isPending && save.variables?.unlock !== true}>
          {t('save')}
        </Button>
      </div>
    </form>
  );
}

function AddOperatorDialog({
  onClose,
  onAdded,
}: {
  onClose: () => void;
  onAdded: (username: string) => void;
}) {
  const { t } = useTranslation('admin');
  const queryClient = useQueryClient();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role | null>(null);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [tried, setTried] = useState(false);
  const add = useBridgeMutation('operators.add', {
    onSuccess: (row) => {
      void queryClient.invalidateQueries({ queryKey: bridgeQueryKey('operators.list') });
      onAdded(row.username);
    },
  });

  const usernameProblem = username.trim().length < 2;
  const nameMissing = !displayName.trim();
  const pwProblem = passwordProblem(password, repeat, true);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (usernameProblem || nameMissing || !role || pwProblem || add.isPending) return;
    add.mutate({ username: username.trim(), displayName: displayName.trim(), role, password });
  };

  return (
    <Dialog
      isOpen
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={t('operators.addTitle')}
      isKeyboardDismissDisabled={add.isPending}
    >
      <form className="ov-form" noValidate onSubmit={submit}>
        <TextField
          label={t('operators.field.username')}
          value={username}
          onChange={setUsername}
          maxLength={60}
          autoComplete="off"
          autoFocus
          errorMessage={tried && usernameProblem ? t('operators.usernameShort') : null}
        />
        <TextField
          label={t('operators.field.displayName')}
          value={displayName}
          onChange={setDisplayName}
          maxLength={120}
          autoComplete="off"
          errorMessage={tried && nameMissing ? t('operators.nameMissing') : null}
        />
        <Select<Role>
          label={t('operators.field.role')}
          options={ROLES.map((id) => ({ id, label: t(`common:role.${id}`) }))}
          value={role}
          onChange={setRole}
          placeholder={t('operators.rolePlaceholder')}
          isRequired
          errorMessage={tried && !role ? t('operators.roleMissing') : null}
        />
        <TextField
          label={t('operators.field.password')}
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="new-password"
          description={t('operators.passwordHint', { min: MIN_PASSWORD })}
          errorMessage={
            tried && pwProblem === 'missing'
              ? t('operators.passwordMissing')
              : tried && pwProblem === 'short'
                ? t('operators.passwordShort', { min: MIN_PASSWORD })
                : null
          }
        />
        <TextField
          label={t('operators.field.repeatPassword')}
          type="password"
          value={repeat}
          onChange={setRepeat}
          autoComplete="new-password"
          errorMessage={tried && pwProblem === 'mismatch' ? t('operators.passwordMismatch') : null}
        />
        <ErrorNotice error={add.error} title={t('operators.addFailed')} />
        <DialogActions>
          <Button onPress={onClose} isDisabled={add.isPending} shortcut="Esc">
            {t('common:action.cancel')}
          </Button>
          <Button type="submit" variant="primary" isPending={add.isPending}>
            {t('operators.addSubmit')}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
