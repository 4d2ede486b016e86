import { useQueryClient } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodResult } from '../../../src-shared/bridge/contract.ts';
import {
  DEVICE_ROLES,
  type DeviceCandidates,
  type DeviceConfigInput,
  type DeviceRole,
  type DeviceStatusView,
  type DeviceView,
} from '../../../src-shared/bridge/device-schemas.ts';
import { bridgeQueryKey, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import {
  Button,
  ErrorNotice,
  type KeyValueItem,
  KeyValueList,
  Notice,
  ReceiptPreview,
  Select,
} from '../../components/index.ts';
import { CardWait } from '../vend/DeviceFeedback.tsx';
import { isCancelled, useCardRead } from '../vend/use-devices.ts';

/** Live status is polled this often while the tab is open. */
const STATUS_POLL_MS = 2500;

type Connection = DeviceConfigInput['connection'];
interface Choice {
  id: string;
  label: string;
  connection: Connection | null;
}

const USB_ROLES: Readonly<Record<DeviceRole, { serial: boolean; hid: boolean; pcsc: boolean }>> = {
  'receipt-printer': { serial: true, hid: false, pcsc: false },
  'magnetic-encoder': { serial: true, hid: true, pcsc: false },
  'ic-encoder': { serial: false, hid: false, pcsc: true },
  'card-reader': { serial: true, hid: true, pcsc: false },
};

const describeConnection = (connection: Connection): string => {
  switch (connection.type) {
    case 'serial':
    case 'hid':
      return `${connection.type.toUpperCase()} ${connection.vendorId}:${connection.productId}${connection.serialNumber ? ` #${connection.serialNumber}` : ''}`;
    case 'tcp':
      return `TCP ${connection.host}:${connection.port ?? 9100}`;
    case 'pcsc':
      return `PC/SC ${connection.readerName ?? ''}`.trim();
    case 'simulator':
      return 'simulator';
    case 'os-spooler':
      return `spooler ${connection.deviceName ?? ''}`.trim();
  }
};

/** The devices a role may use now: none, the current one, the simulator (demo/training) and what was found. */
function choicesFor(
  role: DeviceRole,
  view: DeviceView | undefined,
  candidates: DeviceCandidates,
  simulated: boolean,
  t: TFunction<'admin'>,
): Choice[] {
  const choices: Choice[] = [{ id: 'none', label: t('devices.none'), connection: null }];
  const current = view?.config?.connection;
  if (current && current.type !== 'simulator')
    choices.push({
      id: 'current',
      label: t('devices.current', { device: describeConnection(current) }),
      connection: current,
    });
  if (simulated || current?.type === 'simulator')
    choices.push({ id: 'simulator', label: t('devices.simulator'), connection: { type: 'simulator' } });
  // The system print queue (desktop app only; write-only: its status cannot be read).
  if (role === 'receipt-printer' && !(current?.type === 'os-spooler' && !current.deviceName))
    choices.push({ id: 'os-spooler', label: t('devices.spooler'), connection: { type: 'os-spooler' } });
  const kinds = USB_ROLES[role];
  for (const [type, list] of [
    ['serial', kinds.serial ? candidates.serial : []],
    ['hid', kinds.hid ? candidates.hid : []],
  ] as const) {
    for (const found of list) {
      if (!found.vendorId || !found.productId) continue;
      choices.push({
        id: `${type}:${found.path}`,
        label: `${found.description || found.path} (${found.vendorId}:${found.productId})`,
        connection: {
          type,
          vendorId: found.vendorId,
          productId: found.productId,
          ...(found.serialNumber ? { serialNumber: found.serialNumber } : {}),
        },
      });
    }
  }
  if (kinds.pcsc)
    for (const reader of candidates.pcscReaders)
      choices.push({ id: `pcsc:${reader}`, label: reader, connection: { type: 'pcsc', readerName: reader } });
  return choices;
}

const currentChoice = (view: DeviceView | undefined): string =>
  !view?.config ? 'none' : view.config.connection.type === 'simulator' ? 'simulator' : 'current';

/**
 * Device settings: the device of each role, its live status (polled), a test print and a test card read. The
 * engine reports problems in cashier language; this tab shows them with the next step.
 */
export function DevicesTab() {
  const { t } = useTranslation('admin');
  const list = useBridgeQuery('devices.list', {});
  const status = useBridgeQuery('devices.status', {}, { refetchInterval: STATUS_POLL_MS, retry: false });
  return (
    <div className="ov-admin-devices">
      <ErrorNotice error={list.error} title={t('devices.loadFailed')} onRetry={() => void list.refetch()} />
      {list.isPending ? <p className="ov-muted">{t('loading')}</p> : null}
      {list.data?.simulated ? <Notice tone="info">{t('devices.simulatedNote')}</Notice> : null}
      {list.data && list.data.candidates.problems.length > 0 ? (
        <Notice tone="warning" title={t('devices.problems')}>
          <ul>
            {list.data.candidates.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </Notice>
      ) : null}
      {list.data ? (
        <div className="ov-admin-columns ov-admin-devices__roles">
          {DEVICE_ROLES.map((role) => (
            <RolePanel
              key={role}
              role={role}
              list={list.data}
              status={status.data?.statuses.find((entry) => entry.role === role) ?? null}
            />
          ))}
        </div>
      ) : null}
      <div className="ov-admin-columns">
        <TestPrint />
        <TestCardRead />
      </div>
    </div>
  );
}

function RolePanel({
  role,
  list,
  status,
}: {
  role: DeviceRole;
  list: MethodResult<'devices.list'>;
  status: DeviceStatusView | null;
}) {
  const { t } = useTranslation('admin');
  const queryClient = useQueryClient();
  const view = list.devices.find((device) => device.role === role);
  const choices = choicesFor(role, view, list.candidates, list.simulated, t);
  const [choice, setChoice] = useState(currentChoice(view));
  const refresh = () => {
    for (const method of ['devices.list', 'devices.status'] as const)
      void queryClient.invalidateQueries({ queryKey: bridgeQueryKey(method) });
  };
  const configure = useBridgeMutation('devices.configure', { onSuccess: refresh });
  const remove = useBridgeMutation('devices.remove', { onSuccess: refresh });
  const selected = choices.find((entry) => entry.id === choice) ?? choices[0];
  const changed = choice !== currentChoice(view);
  const save = () => {
    if (!selected || !changed) return;
    configure.reset();
    remove.reset();
    if (selected.connection === null) remove.mutate({ role });
    else {
      // Keep the role's other settings (paper, layout…) when only the device changes.
      const settings = view?.config?.role === role ? view.config.settings : undefined;
      configure.mutate({
        config: {
          role,
          connection: selected.connection,
          ...(settings ? { settings } : {}),
        } as DeviceConfigInput,
      });
    }
  };
  const titleId = `ov-device-${role}`;
  return (
    <section className="ov-panel ov-form" aria-labelledby={titleId}>
      <h2 id={titleId}>{t(`devices.role.${role}`)}</h2>
      <DeviceStatus view={view} status={status} />
      <Select
        label={t('devices.device')}
        options={choices.map(({ id, label }) => ({ id, label }))}
        value={selected?.id ?? 'none'}
        onChange={setChoice}
        description={role === 'card-reader' ? t('devices.cardReaderHint') : undefined}
      />
      <ErrorNotice error={configure.error ?? remove.error} title={t('devices.saveFailed')} />
      {(configure.data || remove.data) && !changed ? (
        <Notice tone="success" live="status" title={t('saved')} />
      ) : null}
      <div className="ov-actions">
        <Button
          variant="primary"
          onPress={save}
          isDisabled={!changed}
          isPending={configure.isPending || remove.isPending}
        >
          {t('save')}
        </Button>
      </div>
    </section>
  );
}

function DeviceStatus({ view, status }: { view: DeviceView | undefined; status: DeviceStatusView | null }) {
  const { t } = useTranslation('admin');
  const state = status?.state ?? null;
  const tone =
    state === 'ready' ? 'strong' : state === 'not-configured' || state === null ? 'normal' : 'danger';
  const items: KeyValueItem[] = [
    {
      label: t('devices.status'),
      value: state ? t(`devices.state.${state}`) : '…',
      tone,
    },
  ];
  // The engine's words for anything but plain "ready": what is wrong and what to do.
  if (status && status.state !== 'ready' && status.state !== 'not-configured')
    items.push({ label: t('devices.problem'), value: status.message, tone: 'danger' });
  if (view?.detail) items.push({ label: t('devices.where'), value: view.detail, tone: 'normal' });
  const printer = status?.printer;
  if (printer) {
    const paper = printer.paperEnd
      ? t('devices.paperEnd')
      : printer.paperNearEnd
        ? t('devices.paperLow')
        : t('devices.paperOk');
    items.push({
      label: t('devices.paper'),
      value: paper,
      tone: printer.paperEnd ? 'danger' : printer.paperNearEnd ? 'warning' : 'normal',
    });
    items.push({
      label: t('devices.cover'),
      value: printer.coverOpen ? t('devices.coverOpen') : t('devices.coverClosed'),
      tone: printer.coverOpen ? 'danger' : 'normal',
    });
  }
  return (
    <output aria-live="polite" className="ov-admin-devices__status">
      <KeyValueList items={items} className="ov-admin-facts" />
    </output>
  );
}

function TestPrint() {
  const { t } = useTranslation('admin');
  const print = useBridgeMutation('devices.testPrint');
  return (
    <section className="ov-panel" aria-labelledby="ov-device-test-print">
      <h2 id="ov-device-test-print">{t('devices.testPrintTitle')}</h2>
      <p className="ov-muted ov-admin-note">{t('devices.testPrintHint')}</p>
      <div className="ov-actions">
        <Button onPress={() => print.mutate({})} isPending={print.isPending}>
          {t('devices.testPrint')}
        </Button>
      </div>
      <ErrorNotice error={print.error} title={t('devices.testPrintFailed')} />
      {print.data && !print.isPending ? (
        <Notice
          tone={print.data.warning ? 'warning' : 'success'}
          live="status"
          title={t('devices.testPrinted')}
        >
          {print.data.warning}
        </Notice>
      ) : null}
      {print.data?.preview ? (
        <ReceiptPreview text={print.data.preview} label={t('devices.testPage')} />
      ) : null}
      {print.data?.previewImage ? (
        <img className="ov-printed-image" src={print.data.previewImage} alt={t('devices.testPageImage')} />
      ) : null}
    </section>
  );
}

/** A test swipe of a meter card (card.read). Writing needs a sale, so test writes are done from the vend screen. */
function TestCardRead() {
  const { t } = useTranslation('admin');
  const { read, cancel } = useCardRead();
  return (
    <section className="ov-panel" aria-labelledby="ov-device-test-card">
      <h2 id="ov-device-test-card">{t('devices.testCardTitle')}</h2>
      <p className="ov-muted ov-admin-note">{t('devices.testCardHint')}</p>
      <div className="ov-actions">
        <Button onPress={() => read.mutate({})} isDisabled={read.isPending}>
          {t('devices.testRead')}
        </Button>
      </div>
      {read.isPending ? (
        <CardWait message={t('devices.swipeNow')} onCancel={cancel.cancel} cancelling={cancel.cancelling} />
      ) : null}
      {read.error && !read.isPending ? (
        isCancelled(read.error) ? (
          <Notice tone="info" live="status">
            {t('devices.readCancelled')}
          </Notice>
        ) : (
          <ErrorNotice error={read.error} title={t('devices.testReadFailed')} />
        )
      ) : null}
      {read.data && !read.isPending ? (
        <Notice tone="success" live="status" title={t('devices.testReadOk', { meter: read.data.meterNo })} />
      ) : null}
    </section>
  );
}
