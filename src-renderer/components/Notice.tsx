import type { ReactNode } from 'react';

export type NoticeTone = 'info' | 'success' | 'warning' | 'danger';

export interface NoticeProps {
  tone?: NoticeTone;
  title?: ReactNode;
  children?: ReactNode;
  /** 'status' is announced politely, 'alert' at once; none for static text. */
  live?: 'status' | 'alert' | 'none';
  className?: string | undefined;
}

/** A coloured message box (information, success, warning); errors from calls use ErrorNotice. */
export function Notice({ tone = 'info', title, children, live = 'none', className }: NoticeProps) {
  const classes = ['ov-notice', `ov-notice--${tone}`, className].filter(Boolean).join(' ');
  const body = (
    <>
      {title ? <p className="ov-notice__title">{title}</p> : null}
      {children ? <div className="ov-notice__message">{children}</div> : null}
    </>
  );
  if (live === 'alert')
    return (
      <div className={classes} role="alert">
        {body}
      </div>
    );
  if (live === 'status')
    return (
      <output className={classes} aria-live="polite">
        {body}
      </output>
    );
  return <div className={classes}>{body}</div>;
}
