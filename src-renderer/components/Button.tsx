import type { ReactNode, Ref } from 'react';
import { Button as AriaButton, type ButtonProps as AriaButtonProps } from 'react-aria-components';
import { Kbd } from './Kbd.tsx';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'quiet';

export interface ButtonProps extends Omit<AriaButtonProps, 'className' | 'children' | 'style'> {
  children: ReactNode;
  variant?: ButtonVariant;
  /** Large touch-first button (main actions of a screen). */
  size?: 'normal' | 'large';
  /** The keyboard shortcut shown on the button, e.g. "F9" or "Enter"; the caller wires the key itself. */
  shortcut?: string;
  className?: string | undefined;
  ref?: Ref<HTMLButtonElement>;
}

/** A button with our styles: at least 44 px high, visible focus ring, optional shortcut hint. */
export function Button({
  children,
  variant = 'secondary',
  size = 'normal',
  shortcut,
  className,
  ...rest
}: ButtonProps) {
  const classes = [
    'ov-button',
    `ov-button--${variant}`,
    size === 'large' ? 'ov-button--large' : '',
    className,
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <AriaButton {...rest} className={classes}>
      <span className="ov-button__label">{children}</span>
      {shortcut ? <Kbd>{shortcut}</Kbd> : null}
    </AriaButton>
  );
}
