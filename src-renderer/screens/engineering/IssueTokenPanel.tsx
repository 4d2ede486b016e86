import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { newRequestId, useBridgeMutation } from '../../app/bridge-context.tsx';
import { useSession } from '../../app/session.tsx';
import { Button, ErrorNotice, Notice, Select, TextField } from '../../components/index.ts';
import { ChoiceGroup } from './ChoiceGroup.tsx';
import { IssuedTokens } from './IssuedTokens.tsx';
import { MeterNumberField } from './MeterNumberField.tsx';
import {
  BASE_DATES,
  type BaseDateText,
  buildIssueRequest,
  callFingerprint,
  EMPTY_FORM,
  type FormProblems,
  type IssueCall,
  type IssueForm,
  REGISTERS,
  TOKEN_CHOICES,
  type TokenChoice,
} from './token-request.ts';

const KEEP = 'keep';

/**
 * Issue one engineering token (or a key change set) for a meter. The request id is made when the engineer
 * presses Issue and reused when the same token is asked for again after a failure (a lost answer then returns
 * the tokens already made instead of making new ones); any change to the request gets a new id.
 */
export function IssueTokenPanel() {
  const { t } = useTranslation('engineering');
  const { can } = useSession();
  const [form, setForm] = useState<IssueForm>(() => ({
    ...EMPTY_FORM,
    choice: can('engineering') ? EMPTY_FORM.choice : 'key-change',
  }));
  const [submitted, setSubmitted] = useState(false);
  const [problems, setProblems] = useState<FormProblems>({});
  const [attempt, setAttempt] = useState<{ requestId: string; fingerprint: string; call: IssueCall } | null>(
    null,
  );
  const [result, setResult] = useState<SaleResult | null>(null);

  const done = (sale: SaleResult) => {
    setResult(sale);
    setAttempt(null);
  };
  const issue = useBridgeMutation('engineering.issue', { onSuccess: done });
  const keyChange = useBridgeMutation('engineering.keyChange', { onSuccess: done });
  const pending = issue.isPending || keyChange.isPending;
  const error = issue.error ?? keyChange.error;

  const choices = TOKEN_CHOICES.filter((choice) =>
    choice === 'key-change' ? can('keyChange') : can('engineering'),
  );

  const update = <K extends keyof IssueForm>(key: K, value: IssueForm[K]) => {
    setForm((before) => ({ ...before, [key]: value }));
    // The error was about the request as it was; a changed request is a new one (and gets a new request id).
    if (issue.error) issue.reset();
    if (keyChange.error) keyChange.reset();
    setProblems((before) => {
      if (!(key in before)) return before;
      const { [key]: _dropped, ...rest } = before;
      return rest;
    });
  };

  const send = (call: IssueCall) => {
    const fingerprint = callFingerprint(call);
    const requestId = attempt && attempt.fingerprint === fingerprint ? attempt.requestId : newRequestId();
    setAttempt({ requestId, fingerprint, call });
    issue.reset();
    keyChange.reset();
    if (call.method === 'engineering.issue') issue.mutate({ ...call.args, requestId });
    else keyChange.mutate({ ...call.args, requestId });
  };

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (pending) return;
    setSubmitted(true);
    const built = buildIssueRequest(form);
    if (!built.ok) {
      setProblems(built.problems);
      return;
    }
    setProblems({});
    send(built.call);
  };

  const again = (keepMeter: boolean) => {
    setResult(null);
    setSubmitted(false);
    issue.reset();
    keyChange.reset();
    if (!keepMeter) setForm((before) => ({ ...before, meter: '' }));
  };

  if (result) {
    return (
      <div className="ov-eng-issue">
        <IssuedTokens
          sale={result}
          actions={
            <div className="ov-actions">
              <Button onPress={() => again(false)}>{t('result.otherMeter')}</Button>
              <Button variant="primary" size="large" onPress={() => again(true)}>
                {t('result.sameMeter')}
              </Button>
            </div>
          }
        />
      </div>
    );
  }

  const problem = (key: keyof IssueForm) => (problems[key] ? t(problems[key]) : null);

  return (
    <form
      className="ov-panel ov-form ov-eng-issue"
      noValidate
      onSubmit={submit}
      aria-labelledby="ov-eng-issue-title"
    >
      <h2 id="ov-eng-issue-title">{t('issue.title')}</h2>
      <MeterNumberField
        value={form.meter}
        onChange={(meter) => update('meter', meter)}
        submitted={submitted}
        autoFocus
      />
      <ChoiceGroup<TokenChoice>
        label={t('issue.kind')}
        choices={choices.map((id) => ({ id, label: t(`choice.${id}.label`) }))}
        value={form.choice}
        onChange={(choice) => update('choice', choice)}
      />
      <Notice tone={form.choice === 'clear-credit' || form.choice === 'key-change' ? 'warning' : 'info'}>
        {t(`choice.${form.choice}.help`)}
      </Notice>
      {form.choice === 'clear-credit' ? (
        <div className="ov-eng-fields">
          <Select
            label={t('issue.register')}
            options={REGISTERS.map((id) => ({ id, label: t(`register.${id}`) }))}
            value={form.register}
            onChange={(register) => update('register', register)}
          />
        </div>
      ) : null}
      {form.choice === 'set-power-limit' || form.choice === 'set-phase-unbalance-limit' ? (
        <div className="ov-eng-fields">
          <TextField
            label={t('issue.watts')}
            value={form.watts}
            onChange={(watts) => update('watts', watts)}
            inputMode="numeric"
            autoComplete="off"
            description={t('issue.wattsHint')}
            errorMessage={problem('watts')}
          />
        </div>
      ) : null}
      {form.choice === 'test' ? (
        <div className="ov-eng-fields">
          <TextField
            label={t('issue.control')}
            value={form.control}
            onChange={(control) => update('control', control)}
            autoComplete="off"
            inputClassName="ov-input--mono"
            description={t('issue.controlHint')}
            errorMessage={problem('control')}
          />
          <TextField
            label={t('issue.manufacturerCode')}
            value={form.manufacturerCode}
            onChange={(code) => update('manufacturerCode', code)}
            inputMode="numeric"
            autoComplete="off"
            description={t('issue.manufacturerCodeHint')}
            errorMessage={problem('manufacturerCode')}
          />
        </div>
      ) : null}
      {form.choice === 'key-change' ? (
        <fieldset className="ov-fieldset ov-form">
          <legend>{t('issue.keyTitle')}</legend>
          <ChoiceGroup<IssueForm['keyTarget']>
            label={t('issue.keyTarget')}
            layout="inline"
            choices={[
              { id: 'pending', label: t('issue.keyPending') },
              { id: 'chosen', label: t('issue.keyChosen') },
            ]}
            value={form.keyTarget}
            onChange={(keyTarget) => update('keyTarget', keyTarget)}
          />
          {form.keyTarget === 'chosen' ? (
            <>
              <p className="ov-muted ov-eng-note">{t('issue.keyChosenHint')}</p>
              <div className="ov-eng-key-row">
                <TextField
                  label={t('issue.sgc')}
                  value={form.sgc}
                  onChange={(sgc) => update('sgc', sgc)}
                  inputMode="numeric"
                  autoComplete="off"
                  inputClassName="ov-input--mono"
                  errorMessage={problem('sgc')}
                />
                <TextField
                  label={t('issue.krn')}
                  value={form.krn}
                  onChange={(krn) => update('krn', krn)}
                  inputMode="numeric"
                  autoComplete="off"
                  errorMessage={problem('krn')}
                />
                <TextField
                  label={t('issue.ti')}
                  value={form.ti}
                  onChange={(ti) => update('ti', ti)}
                  inputMode="numeric"
                  autoComplete="off"
                  errorMessage={problem('ti')}
                />
                <Select<BaseDateText | typeof KEEP>
                  label={t('issue.baseDate')}
                  options={[
                    { id: KEEP, label: t('issue.baseDateKeep') },
                    ...BASE_DATES.map((id) => ({ id, label: id })),
                  ]}
                  value={form.baseDate === '' ? KEEP : form.baseDate}
                  onChange={(value) => update('baseDate', value === KEEP ? '' : value)}
                />
              </div>
            </>
          ) : null}
        </fieldset>
      ) : null}
      <ErrorNotice
        error={error}
        title={t('issue.failed')}
        values={{ meter: form.meter.trim() }}
        {...(attempt ? { onRetry: () => send(attempt.call), retryLabel: t('issue.retry') } : {})}
      />
      <div className="ov-actions">
        <Button type="submit" variant="primary" size="large" isPending={pending} shortcut="Enter">
          {pending
            ? t('issue.submitting')
            : t(form.choice === 'key-change' ? 'issue.submitKeyChange' : 'issue.submit')}
        </Button>
      </div>
    </form>
  );
}
