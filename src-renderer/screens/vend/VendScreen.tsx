import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppInfo } from '../../app/app-info.ts';
import { newRequestId, useBridgeMutation } from '../../app/bridge-context.tsx';
import { errorCode } from '../../app/errors.ts';
import { useSession } from '../../app/session.tsx';
import { useBarcodeWedge, useShortcuts } from '../../app/shortcuts.ts';
import { receiptText } from '../../app/slips.ts';
import {
  Button,
  Dialog,
  DialogActions,
  Notice,
  PageHeader,
  ShortcutBar,
  type ShortcutHint,
  SlipDialog,
} from '../../components/index.ts';
import { useRefreshStatus, useStatus } from '../../layout/use-status.ts';
import { OpenShiftPanel } from '../shift/OpenShiftPanel.tsx';
import { AmountStep } from './AmountStep.tsx';
import { ConfirmStep } from './ConfirmStep.tsx';
import { CustomerPanel } from './CustomerPanel.tsx';
import { MeterStep } from './MeterStep.tsx';
import { checkMeterInput } from './meter-input.ts';
import { ResultStep } from './ResultStep.tsx';
import type { MeterConfirmation, Quote, SaleResult, VendStep } from './types.ts';
import { useCardRead, useConfiguredRoles } from './use-devices.ts';
import { useResultDevices } from './use-result-devices.ts';

/** Errors after which the sale may or may not have been made: only a resend of the same request is safe. */
const OUTCOME_UNKNOWN = new Set(['BRIDGE_UNREACHABLE', 'INTERNAL', 'BRIDGE_INVALID_RESULT']);
const isOutcomeUnknown = (error: unknown) => {
  const code = errorCode(error);
  return code === null || OUTCOME_UNKNOWN.has(code);
};

interface Attempt {
  requestId: string;
  meterNo: string;
  tenderMinor: number;
  unknown: boolean;
}

const STEP_ORDER = ['meter', 'customer', 'amount', 'confirm', 'result'] as const;

/**
 * The sale, one step at a time: meter → customer → amount (live quote) → confirm → tokens. Enter advances, Esc
 * goes back, F-keys run the result actions. The request id is made when the amount is confirmed and reused for a
 * retry of that same sale, so a lost answer never sells twice.
 */
export function VendScreen({ active, resetSignal }: { active: boolean; resetSignal: number }) {
  const { t } = useTranslation('vend');
  const { data: info } = useAppInfo();
  const { can } = useSession();
  const { data: status } = useStatus();
  const queryClient = useQueryClient();
  const refreshStatus = useRefreshStatus();

  const [step, setStep] = useState<VendStep>({ kind: 'meter' });
  const [meterText, setMeterText] = useState('');
  const [meterSubmitted, setMeterSubmitted] = useState(false);
  const [amountText, setAmountText] = useState('');
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [slip, setSlip] = useState<{ sale: SaleResult; copy: boolean } | null>(null);
  const [cardInfoOpen, setCardInfoOpen] = useState(false);
  const [printedPage, setPrintedPage] = useState<{
    text: string;
    image: string | null;
    copy: boolean;
    receiptNo: string;
  } | null>(null);
  const meterRef = useRef<HTMLInputElement>(null);

  const lookup = useBridgeMutation('meter.confirm', {
    onSuccess: (confirmation) => setStep({ kind: 'customer', confirmation }),
  });
  const sell = useBridgeMutation('vend.sell');
  const reprint = useBridgeMutation('sales.reprint', {
    onSuccess: (sale) => setSlip({ sale, copy: true }),
  });
  const devices = useResultDevices(active && step.kind === 'result');
  const readerSet = useConfiguredRoles(active && step.kind === 'meter');
  const cardReader = useCardRead((meterNo) => {
    setMeterText(meterNo);
    findMeter(meterNo);
  });

  const reset = useCallback(() => {
    setStep({ kind: 'meter' });
    setMeterText('');
    setMeterSubmitted(false);
    setAmountText('');
    setSlip(null);
    setPrintedPage(null);
    lookup.reset();
    sell.reset();
    reprint.reset();
    devices.reset();
    cardReader.read.reset();
  }, [lookup.reset, sell.reset, reprint.reset, devices.reset, cardReader.read.reset]);

  const findMeter = (text: string = meterText) => {
    const state = checkMeterInput(text);
    setMeterSubmitted(true);
    if (state.kind !== 'valid' || lookup.isPending) return;
    lookup.mutate({ meterNumber: state.digits });
  };

  // F2 on the vend screen: a new sale (not while a sale is being sent).
  const lastReset = useRef(resetSignal);
  useEffect(() => {
    if (resetSignal === lastReset.current) return;
    lastReset.current = resetSignal;
    if (!sell.isPending) reset();
  }, [resetSignal, reset, sell.isPending]);

  const continueWithQuote = useCallback(
    (quote: Quote) => {
      if (step.kind !== 'amount') return;
      const tenderMinor = quote.breakdown.tenderMinor;
      const meterNo = step.confirmation.meterNo;
      // Same meter and amount after an unknown outcome: the same request again, so it cannot sell twice.
      const reuse =
        attempt?.unknown && attempt.meterNo === meterNo && attempt.tenderMinor === tenderMinor
          ? attempt.requestId
          : null;
      sell.reset();
      setStep({
        kind: 'confirm',
        confirmation: step.confirmation,
        quote,
        requestId: reuse ?? newRequestId(),
      });
    },
    [step, attempt, sell.reset],
  );

  const doSell = () => {
    if (step.kind !== 'confirm' || sell.isPending) return;
    const { requestId, confirmation } = step;
    const tenderMinor = step.quote.breakdown.tenderMinor;
    setAttempt({ requestId, meterNo: confirmation.meterNo, tenderMinor, unknown: false });
    sell.mutate(
      { requestId, meterNumber: confirmation.meterNo, tenderMinor, payType: 'cash' },
      {
        onSuccess: (sale) => {
          setAttempt(null);
          setStep({ kind: 'result', confirmation, sale });
          void refreshStatus();
          void queryClient.invalidateQueries({ queryKey: ['sales.search'] });
          void queryClient.invalidateQueries({ queryKey: ['shift.xReport'] });
        },
        onError: (error) => {
          setAttempt({
            requestId,
            meterNo: confirmation.meterNo,
            tenderMinor,
            unknown: isOutcomeUnknown(error),
          });
          void refreshStatus();
        },
      },
    );
  };

  const back = () => {
    switch (step.kind) {
      case 'meter':
        setMeterText('');
        setMeterSubmitted(false);
        lookup.reset();
        break;
      case 'customer':
        lookup.reset();
        setStep({ kind: 'meter' });
        break;
      case 'amount':
        setStep({ kind: 'customer', confirmation: step.confirmation });
        break;
      case 'confirm':
        if (!sell.isPending) setStep({ kind: 'amount', confirmation: step.confirmation });
        break;
      case 'result':
        break;
    }
  };

  const confirmCustomer = (confirmation: MeterConfirmation) => {
    if (confirmation.canVend) setStep({ kind: 'amount', confirmation });
  };

  const result = step.kind === 'result' ? step.sale : null;
  const shiftOpen = status?.shift != null;
  const needsShift = status !== undefined && !shiftOpen && can('shift');
  const enabled = active && !needsShift;

  const keys: [string, () => void][] = [
    ['Escape', back],
    [
      'Enter',
      () => {
        if (step.kind === 'meter') findMeter();
        else if (step.kind === 'customer') confirmCustomer(step.confirmation);
        else if (step.kind === 'confirm') doSell();
      },
    ],
  ];
  const printSale = (sale: SaleResult) =>
    devices.printing.configured ? devices.print(sale.receiptNo) : setSlip({ sale, copy: false });
  const reprintSale = (sale: SaleResult) => {
    if (devices.printing.configured) devices.reprint(sale.receiptNo);
    else if (!reprint.isPending) reprint.mutate({ receiptNo: sale.receiptNo });
  };
  const writeCard = (sale: SaleResult) =>
    devices.card.configured ? devices.writeCard(sale.receiptNo) : setCardInfoOpen(true);
  const readMeterCard = () => {
    if (!cardReader.read.isPending && !lookup.isPending) cardReader.read.mutate({});
  };
  const cardReaderSet = readerSet('card-reader') || readerSet('magnetic-encoder');
  if (result) {
    keys.push(
      ['F8', () => printSale(result)],
      ['F9', () => reprintSale(result)],
      ['F10', () => writeCard(result)],
    );
  } else if (step.kind === 'meter' && cardReaderSet) {
    keys.push(['F10', readMeterCard]);
  }
  useShortcuts(Object.fromEntries(keys), { enabled });

  useBarcodeWedge(
    (digits) => {
      if (step.kind === 'result') reset();
      setMeterText(digits);
      if (step.kind === 'meter' || step.kind === 'result') findMeter(digits);
    },
    enabled && (step.kind === 'meter' || step.kind === 'result'),
  );

  const hints: ShortcutHint[] =
    step.kind === 'result'
      ? [
          { keys: 'F8', label: t('result.print') },
          { keys: 'F9', label: t('result.reprint') },
          { keys: 'F10', label: t('result.writeCard') },
          { keys: 'F2', label: t('result.newSale') },
        ]
      : [
          { keys: 'Enter', label: t('hint.next') },
          { keys: 'Esc', label: step.kind === 'meter' ? t('hint.clear') : t('hint.back') },
          ...(step.kind === 'meter' && cardReaderSet ? [{ keys: 'F10', label: t('meter.readCard') }] : []),
          { keys: 'F2', label: t('result.newSale') },
        ];

  const stepIndex = STEP_ORDER.indexOf(step.kind);

  return (
    <div className="ov-vend">
      <PageHeader
        title={t('title')}
        actions={
          needsShift || !shiftOpen ? null : (
            <ol className="ov-steps" aria-label={t('steps.label')}>
              {STEP_ORDER.map((name, index) => (
                <li
                  key={name}
                  className={
                    index < stepIndex ? 'ov-steps__done' : index === stepIndex ? 'ov-steps__current' : ''
                  }
                  aria-current={index === stepIndex ? 'step' : undefined}
                >
                  <span className="ov-steps__number" aria-hidden="true">
                    {index + 1}
                  </span>
                  {t(`steps.${name}`)}
                </li>
              ))}
            </ol>
          )
        }
      />
      {status === undefined ? null : needsShift ? (
        // Nothing sells until the shift state is known: the meter step never flashes up before "open your shift".
        <OpenShiftPanel autoFocus={active} />
      ) : status !== undefined && !shiftOpen ? (
        <Notice tone="warning" title={t('noShiftTitle')}>
          {t('noShiftText')}
        </Notice>
      ) : (
        <>
          {step.kind === 'meter' ? (
            <MeterStep
              value={meterText}
              onChange={(text) => {
                setMeterText(text);
                setMeterSubmitted(false);
                if (lookup.error) lookup.reset();
              }}
              onSubmit={() => findMeter()}
              submitted={meterSubmitted}
              pending={lookup.isPending}
              error={lookup.error}
              inputRef={meterRef}
              active={active}
              cardReader={
                cardReaderSet
                  ? {
                      onRead: readMeterCard,
                      pending: cardReader.read.isPending,
                      error: cardReader.read.error,
                      onCancel: cardReader.cancel.cancel,
                      cancelling: cardReader.cancel.cancelling,
                    }
                  : null
              }
            />
          ) : null}
          {step.kind === 'customer' ? (
            <CustomerPanel
              confirmation={step.confirmation}
              onConfirm={() => confirmCustomer(step.confirmation)}
              onBack={back}
            />
          ) : null}
          {step.kind === 'amount' ? (
            <AmountStep
              confirmation={step.confirmation}
              amountText={amountText}
              onAmountChange={setAmountText}
              onContinue={continueWithQuote}
              onBack={back}
            />
          ) : null}
          {step.kind === 'confirm' ? (
            <ConfirmStep
              confirmation={step.confirmation}
              quote={step.quote}
              pending={sell.isPending}
              error={sell.error}
              outcomeUnknown={attempt?.unknown ?? false}
              onSell={doSell}
              onBack={back}
            />
          ) : null}
          {step.kind === 'result' ? (
            <ResultStep
              confirmation={step.confirmation}
              sale={step.sale}
              onPrint={() => printSale(step.sale)}
              onReprint={() => reprintSale(step.sale)}
              reprintPending={reprint.isPending}
              reprintError={reprint.error}
              onWriteCard={() => writeCard(step.sale)}
              onNewSale={reset}
              printing={devices.printing}
              onShowPrinted={() => {
                const printed = devices.printing.result;
                if (printed?.preview)
                  setPrintedPage({
                    text: printed.preview,
                    image: printed.previewImage,
                    copy: printed.copy,
                    receiptNo: step.sale.receipt.header.receiptNo,
                  });
              }}
              card={devices.card}
            />
          ) : null}
          <ShortcutBar hints={hints} label={t('hint.label')} />
        </>
      )}
      {slip && info ? (
        <SlipDialog
          isOpen
          onClose={() => setSlip(null)}
          title={slip.copy ? t('slip.reprintTitle') : t('slip.printTitle')}
          label={t('slip.label', { receiptNo: slip.sale.receipt.header.receiptNo })}
          text={receiptText(slip.sale.receipt, info)}
          copy={slip.copy}
          note={<Notice tone="info">{t('slip.noPrinter')}</Notice>}
        />
      ) : null}
      {printedPage ? (
        <SlipDialog
          isOpen
          onClose={() => setPrintedPage(null)}
          title={t('device.printedTitle')}
          label={t('slip.label', { receiptNo: printedPage.receiptNo })}
          text={printedPage.text}
          copy={printedPage.copy}
          note={
            <>
              <Notice tone="info">{t('device.printedNote')}</Notice>
              {printedPage.image ? (
                <img className="ov-printed-image" src={printedPage.image} alt={t('device.printedImage')} />
              ) : null}
            </>
          }
        />
      ) : null}
      <Dialog isOpen={cardInfoOpen} onOpenChange={setCardInfoOpen} title={t('card.title')} isDismissable>
        <p>{t('card.text')}</p>
        <p>{t('card.next')}</p>
        <DialogActions>
          <Button variant="primary" autoFocus onPress={() => setCardInfoOpen(false)}>
            {t('common:action.close')}
          </Button>
        </DialogActions>
      </Dialog>
    </div>
  );
}
