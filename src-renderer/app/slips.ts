import type { AppInfo } from '../../src-shared/bridge/contract.ts';
import { formatMoney } from '../../src-shared/vending/money.ts';
import { type Receipt, renderReceiptText } from '../../src-shared/vending/receipt.ts';
import { renderShiftReportText, type ShiftReport } from '../../src-shared/vending/shift-report.ts';
import { currencyOf } from './app-info.ts';

/**
 * The printer text of receipts and shift reports, exactly as the receipt printer will print it (plain amounts,
 * the outlet's paper width): the on-screen preview stands in for the printer until devices arrive.
 */
export function receiptText(receipt: Receipt, info: AppInfo): string {
  const currency = currencyOf(info);
  return renderReceiptText(receipt, {
    columns: info.receiptColumns,
    formatMoney: (minor) => formatMoney(minor, currency),
  });
}

export function shiftReportText(report: ShiftReport, info: AppInfo): string {
  const currency = currencyOf(info);
  return renderShiftReportText(report, {
    columns: info.receiptColumns,
    formatMoney: (minor) => formatMoney(minor, currency),
  });
}
