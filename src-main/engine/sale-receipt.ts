import type { WallClock } from '../../src-shared/sts/tid.ts';
import type { PriceBreakdown } from '../../src-shared/vending/pricing.ts';
import type { Receipt, ReceiptToken } from '../../src-shared/vending/receipt.ts';
import type { MeterRow } from './meters.ts';

/** Everything a receipt needs, captured at sale time so a reprint is identical (apart from COPY). */
export interface ReceiptContext {
  title: string;
  utility: { name: string; address: string; taxRef: string; receiptFooter: string };
  outlet: { name: string; address: string; terminalId: string };
  operatorName: string;
  receiptNo: number;
  localTime: WallClock;
  meter: MeterRow;
  customer: { name: string; address: string; accountNo: string } | null;
  tariffName: string;
  tokens: Array<{ kind: ReceiptToken['kind']; label: string; digits: string; units: number | null }>;
  breakdown: PriceBreakdown | null;
  payType: string;
  keyChange: {
    from: { sgc: string; krn: number; ti: number };
    to: { sgc: string; krn: number; ti: number };
  } | null;
  messages: string[];
}

const pad = (n: number) => String(n).padStart(2, '0');
const addressLines = (address: string) => address.split(/,\s*|\n/).filter(Boolean);

/** Receipt numbers print with the outlet's terminal prefix, so numbers from different outlets never collide. */
export const formatReceiptNo = (terminalId: string, receiptNo: number) =>
  `${terminalId}-${String(receiptNo).padStart(8, '0')}`;

export const buildReceiptTime = (t: WallClock) =>
  `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`;

export function buildReceipt(c: ReceiptContext): Receipt {
  const t = c.localTime;
  const b = c.breakdown;
  const resource = c.meter.meterType;
  return {
    header: {
      title: c.title,
      copy: false,
      utility: {
        name: c.utility.name,
        addressLines: addressLines(c.utility.address),
        taxRef: c.utility.taxRef,
      },
      outlet: { name: c.outlet.name, addressLines: addressLines(c.outlet.address) },
      receiptNo: formatReceiptNo(c.outlet.terminalId, c.receiptNo),
      issuedAt: buildReceiptTime(t),
      terminalId: c.outlet.terminalId,
      operator: c.operatorName,
    },
    ...(c.customer
      ? {
          customer: {
            name: c.customer.name,
            addressLines: addressLines(c.customer.address),
            accountNo: c.customer.accountNo,
          },
        }
      : {}),
    meter: {
      meterNo: c.meter.meterNo,
      sgc: c.keyChange?.to.sgc ?? c.meter.sgc,
      krn: c.keyChange?.to.krn ?? c.meter.krn,
      ti: c.keyChange?.to.ti ?? c.meter.ti,
      ea: c.meter.ea,
      tt: '02',
      tariffName: c.tariffName,
      tariffIndex: pad(c.meter.ti),
      ...(c.keyChange ? { keyChange: c.keyChange } : {}),
    },
    tokens: c.tokens.map((token) => ({
      kind: token.kind,
      label: token.label,
      digits: token.digits,
      resource,
      ...(token.units !== null ? { units: token.units } : {}),
    })),
    ...(b
      ? {
          lines: {
            ...(b.fixedCharges.length
              ? {
                  fixedCharges: b.fixedCharges.map((c) => ({
                    description: c.description,
                    months: c.months,
                    amountMinor: c.amountMinor,
                    vatMinor: c.vatMinor,
                  })),
                }
              : {}),
            ...(b.debt
              ? {
                  debtRecovery: [
                    {
                      description: b.debt.description,
                      accountNo: b.debt.accountNo,
                      amountMinor: b.debt.amountMinor,
                      balanceAfterMinor: b.debt.balanceAfterMinor,
                    },
                  ],
                }
              : {}),
            ...(b.levies.length
              ? { levies: b.levies.map((l) => ({ description: l.name, amountMinor: l.amountMinor })) }
              : {}),
            energyMinor: b.energyMinor,
            vat: [{ rateBasisPoints: b.vat.rateBp, amountMinor: b.totalVatMinor }],
            unitsTotal: b.units + (b.fbe?.units ?? 0),
            resource,
            blocks: b.blocks.map((block) => ({
              units: block.units,
              rateMilliMinor: block.rateMilliMinorPerKwh,
            })),
            totalMinor: b.tenderMinor - b.changeMinor,
            payType: c.payType.toUpperCase(),
            tenderMinor: b.tenderMinor,
            changeMinor: b.changeMinor,
          },
        }
      : {}),
    messages: { lines: c.messages, footer: c.utility.receiptFooter },
  };
}
