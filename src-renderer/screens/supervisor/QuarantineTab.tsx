import { Button as AriaButton, Disclosure, DisclosurePanel, Heading } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import type { QuarantinedEventView } from '../../../src-shared/bridge/supervisor-schemas.ts';
import { useFormat } from '../../app/app-info.ts';
import { useBridgeQuery } from '../../app/bridge-context.tsx';
import { ErrorNotice, KeyValueList, Notice, ProgressBar } from '../../components/index.ts';

/** The payload as kept, indented for reading; shown as stored when it is not JSON. */
function readablePayload(payloadJson: string): string {
  try {
    return JSON.stringify(JSON.parse(payloadJson), null, 2);
  } catch {
    return payloadJson;
  }
}

function QuarantinedEvent({ event }: { event: QuarantinedEventView }) {
  const { t } = useTranslation('supervisor');
  const { dateTime } = useFormat();
  const titleId = `ov-quarantine-${event.outboxSeq}`;
  return (
    <li className="ov-quarantine__item">
      <article className="ov-quarantine__event" aria-labelledby={titleId}>
        <h3 id={titleId} className="ov-quarantine__title">
          {t('quarantine.eventTitle', { seq: String(event.outboxSeq), type: event.eventType })}
          {event.receiptNo !== null ? (
            <span className="ov-quarantine__receipt">
              {t('quarantine.receipt', { receiptNo: String(event.receiptNo) })}
            </span>
          ) : null}
        </h3>
        <KeyValueList
          items={[
            { label: t('quarantine.happenedAt'), value: dateTime(event.createdAt) },
            { label: t('quarantine.refusedAt'), value: dateTime(event.quarantinedAt) },
            { label: t('quarantine.reasonCode'), value: <code>{event.reasonCode}</code>, tone: 'danger' },
            { label: t('quarantine.reason'), value: event.reasonMessage },
            { label: t('quarantine.batch'), value: String(event.batchId) },
          ]}
        />
        <Disclosure className="ov-disclosure">
          <Heading level={4} className="ov-disclosure__heading">
            <AriaButton slot="trigger" className="ov-disclosure__trigger">
              <span aria-hidden="true" className="ov-disclosure__chevron" />
              {t('quarantine.payload')}
            </AriaButton>
          </Heading>
          <DisclosurePanel className="ov-disclosure__panel">
            <pre className="ov-quarantine__payload">{readablePayload(event.payloadJson)}</pre>
          </DisclosurePanel>
        </Disclosure>
      </article>
    </li>
  );
}

/** Events head office refused, kept on this computer (never deleted): what, when, why, and the original data. */
export function QuarantineTab() {
  const { t } = useTranslation('supervisor');
  const list = useBridgeQuery('sync.quarantine', {}, { staleTime: 0 });
  if (list.isPending) return <ProgressBar label={t('quarantine.loading')} />;
  if (list.isError) return <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />;
  const events = list.data;
  if (events.length === 0) {
    return (
      <Notice tone="success" title={t('quarantine.emptyTitle')}>
        {t('quarantine.emptyText')}
      </Notice>
    );
  }
  return (
    <section className="ov-panel" aria-labelledby="ov-quarantine-count">
      <h2 id="ov-quarantine-count">{t('quarantine.count', { count: events.length })}</h2>
      <p className="ov-muted">{t('quarantine.intro')}</p>
      <ul className="ov-quarantine" aria-label={t('quarantine.listLabel')}>
        {events.map((event) => (
          <QuarantinedEvent key={event.outboxSeq} event={event} />
        ))}
      </ul>
    </section>
  );
}
