import type { ReactNode } from 'react';

export interface PageHeaderProps {
  title: ReactNode;
  description?: ReactNode;
  /** Buttons on the right (wrap under the title on narrow screens). */
  actions?: ReactNode;
}

/** The title row of a screen: one h1 per screen, so screen readers and tests find where they are. */
export function PageHeader({ title, description, actions }: PageHeaderProps) {
  return (
    <header className="ov-page-header">
      <div className="ov-page-header__text">
        <h1 className="ov-page-header__title">{title}</h1>
        {description ? <p className="ov-page-header__description">{description}</p> : null}
      </div>
      {actions ? <div className="ov-page-header__actions">{actions}</div> : null}
    </header>
  );
}
