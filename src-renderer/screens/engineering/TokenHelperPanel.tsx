import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TokenExplanation } from '../../../src-shared/bridge/contract.ts';
import { formatTi } from '../../../src-shared/sts/identifiers.ts';
import { useFormat } from '../../app/app-info.ts';
import { useBridgeMutation } from '../../app/bridge-context.tsx';
import {
  Button,
  ErrorNotice,
  type KeyValueItem,
  KeyValueList,
  Notice,
  TextField,
} from '../../components/index.ts';
import { groupMeterNo } from '../vend/CustomerPanel.tsx';
import { checkMeterInput } from '../vend/meter-input.ts';
import { useTokenTypeName } from './IssuedTokens.tsx';
import { MeterNumberField } from './MeterNumberField.tsx';

type Finding = TokenExplanation['findings'][number];
type Verdict = TokenExplanation['verdict'];

const TOKEN_DIGITS = 20;
const VERDICT_TONE = { accept: 'success', reject: 'danger', unknown: 'warning' } as const satisfies Record<
  Verdict,
  string
>;
/** Worst first, so the reason for a refusal is read before the reassurances. */
const SEVERITY_ORDER: Record<Finding['severity'], number> = { reject: 0, warning: 1, info: 2, ok: 3 };

/** What the engineer has typed as a token: digits (spaces and dashes allowed), 20 of them. */
function checkTokenInput(text: string): { kind: 'empty' | 'not-digits' | 'count' | 'valid'; digits: string } {
  const digits = text.replace(/[\s-]/g, '');
  if (digits === '') return { kind: 'empty', digits };
  if (!/^\d+$/.test(digits)) return { kind: 'not-digits', digits };
  return { kind: digits.length === TOKEN_DIGITS ? 'valid' : 'count', digits };
}

/**
 * The token helper: a meter and a token as the customer typed it → what the meter will do with it and why
 * (decoded with which key, its TID and date, and every finding from the ledger, worst first).
 */
export function TokenHelperPanel() {
  const { t } = useTranslation('engineering');
  const [meter, setMeter] = useState('');
  const [token, setToken] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const explain = useBridgeMutation('tokens.explain');

  const meterState = checkMeterInput(meter);
  const tokenState = checkTokenInput(token);
  let tokenError: string | null = null;
  let tokenHint: string | null = t('helper.tokenHint');
  if (tokenState.kind === 'not-digits') tokenError = t('helper.tokenDigitsOnly');
  else if (tokenState.kind === 'count') {
    tokenHint = t('helper.tokenCount', { count: tokenState.digits.length, total: TOKEN_DIGITS });
    if (submitted || tokenState.digits.length > TOKEN_DIGITS)
      tokenError = t('helper.tokenLength', { count: tokenState.digits.length, total: TOKEN_DIGITS });
  } else if (tokenState.kind === 'empty' && submitted) tokenError = t('helper.tokenRequired');
  else if (tokenState.kind === 'valid') tokenHint = t('helper.tokenComplete');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (meterState.kind !== 'valid' || tokenState.kind !== 'valid' || explain.isPending) return;
    explain.mutate({ meterNumber: meterState.digits, token: tokenState.digits });
  };

  return (
    <div className="ov-eng-helper">
      <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-eng-helper-title">
        <h2 id="ov-eng-helper-title">{t('helper.title')}</h2>
        <p className="ov-muted ov-eng-note">{t('helper.description')}</p>
        <div className="ov-eng-helper__fields">
          <MeterNumberField value={meter} onChange={setMeter} submitted={submitted} autoFocus />
          <TextField
            label={t('helper.token')}
            value={token}
            onChange={setToken}
            inputMode="numeric"
            autoComplete="off"
            name="token"
            inputClassName="ov-input--large ov-input--mono"
            description={tokenHint}
            errorMessage={tokenError}
            className={tokenState.kind === 'valid' ? 'ov-field--valid' : undefined}
          />
        </div>
        <ErrorNotice error={explain.error} title={t('helper.failed')} values={{ meter: meter.trim() }} />
        <div className="ov-actions">
          <Button type="submit" variant="primary" size="large" isPending={explain.isPending} shortcut="Enter">
            {t('helper.submit')}
          </Button>
        </div>
      </form>
      {explain.data ? <Explanation result={explain.data} /> : null}
    </div>
  );
}

function Explanation({ result }: { result: TokenExplanation }) {
  const { t } = useTranslation('engineering');
  const sectionRef = useRef<HTMLElement>(null);
  // Bring each new answer into view; focus stays in the form so the next token can be typed at once.
  useEffect(() => {
    if (result) sectionRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, [result]);
  const { dateTime } = useFormat();
  const typeName = useTokenTypeName();
  const findings = [...result.findings].sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  const items: KeyValueItem[] = [
    { label: t('helper.meter'), value: <span className="ov-mono">{groupMeterNo(result.meterNo)}</span> },
    { label: t('helper.token'), value: <span className="ov-mono">{result.token}</span> },
  ];
  if (result.tokenClass !== null) {
    items.push({
      label: t('helper.type'),
      value:
        result.subclass === null
          ? t('helper.classOnly', { tokenClass: result.tokenClass })
          : t('helper.typeValue', {
              type: typeName(result.tokenClass, result.subclass, result.description ?? ''),
              tokenClass: result.tokenClass,
              subclass: result.subclass,
            }),
    });
  }
  if (result.description) items.push({ label: t('helper.decoded'), value: result.description });
  if (result.tid !== null) {
    items.push({
      label: t('helper.tid'),
      value: result.issuedAt
        ? t('helper.tidValue', { tid: result.tid, date: dateTime(result.issuedAt) })
        : String(result.tid),
    });
  }
  items.push({
    label: t('helper.decodedWith'),
    value: result.decodedWith
      ? t(result.decodedWith.current ? 'helper.keyCurrent' : 'helper.keyOther', {
          sgc: result.decodedWith.sgc,
          krn: result.decodedWith.krn,
          ti: formatTi(result.decodedWith.ti),
        })
      : result.tokenClass === 1
        ? t('helper.keyNone')
        : t('helper.keyUnknown'),
    tone: result.decodedWith && !result.decodedWith.current ? 'warning' : 'normal',
  });
  items.push({
    label: t('helper.receipt'),
    value: result.issuedOnReceipt === null ? t('helper.notInLedger') : String(result.issuedOnReceipt),
  });
  return (
    <section ref={sectionRef} className="ov-panel ov-eng-explain" aria-labelledby="ov-eng-explain-title">
      <h2 id="ov-eng-explain-title">{t('helper.resultTitle')}</h2>
      <Notice
        tone={VERDICT_TONE[result.verdict]}
        live="status"
        title={t(`verdict.${result.verdict}.title`)}
        className="ov-eng-verdict"
      >
        {t(`verdict.${result.verdict}.text`)}
      </Notice>
      <KeyValueList items={items} className="ov-eng-explain__facts" />
      <h3 id="ov-eng-findings-title">{t('helper.findings')}</h3>
      {findings.length === 0 ? (
        <p className="ov-muted">{t('helper.noFindings')}</p>
      ) : (
        <ul className="ov-eng-findings" aria-labelledby="ov-eng-findings-title">
          {findings.map((finding) => (
            // Findings have no id; the same code with the same message would say the same thing twice.
            <li
              key={`${finding.code}:${finding.message}`}
              className={`ov-eng-finding ov-eng-finding--${finding.severity}`}
            >
              <span className={`ov-eng-finding__severity ov-eng-finding__severity--${finding.severity}`}>
                {t(`severity.${finding.severity}`)}
              </span>
              <div className="ov-eng-finding__body">
                <p className="ov-eng-finding__title">
                  {t(`finding.${finding.code}`, { defaultValue: finding.code })}
                </p>
                <p className="ov-eng-finding__message">{finding.message}</p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
