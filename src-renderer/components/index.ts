/** Shared UI building blocks (react-aria-components underneath, styled by src-renderer/styles/*.css). */
export { Button, type ButtonProps, type ButtonVariant } from './Button.tsx';
export { type DataColumn, DataTable, type DataTableProps } from './DataTable.tsx';
export { DateField, type DateFieldProps } from './DateField.tsx';
export { Dialog, DialogActions, type DialogProps } from './Dialog.tsx';
export { ErrorNotice, type ErrorNoticeProps } from './ErrorNotice.tsx';
export { Kbd, ShortcutBar, type ShortcutHint } from './Kbd.tsx';
export { type KeyValueItem, KeyValueList } from './KeyValueList.tsx';
export { checkMoney, type MoneyCheck, MoneyField, type MoneyFieldProps } from './MoneyField.tsx';
export { Notice, type NoticeProps, type NoticeTone } from './Notice.tsx';
export { PageHeader, type PageHeaderProps } from './PageHeader.tsx';
export { ProgressBar, type ProgressBarProps } from './ProgressBar.tsx';
export { ReceiptPreview, type ReceiptPreviewProps } from './ReceiptPreview.tsx';
export { Select, type SelectOption, type SelectProps } from './Select.tsx';
export { SlipDialog, type SlipDialogProps } from './SlipDialog.tsx';
export { TextField, type TextFieldProps } from './TextField.tsx';
export { TokenDisplay, type TokenDisplayProps, type TokenKind } from './TokenDisplay.tsx';
