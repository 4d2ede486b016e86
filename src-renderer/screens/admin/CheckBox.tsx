import type { ReactNode } from 'react';
import { CheckboxButton, CheckboxField, Text } from 'react-aria-components';

export interface CheckBoxProps {
  children: ReactNode;
  isSelected: boolean;
  onChange: (isSelected: boolean) => void;
  description?: ReactNode;
  isDisabled?: boolean;
  className?: string | undefined;
}

/**
 * A labelled checkbox with a 44 px touch target (the label toggles it too). Not among the shared components,
 * so it lives here; generic enough to move to components/ later.
 */
export function CheckBox({
  children,
  isSelected,
  onChange,
  description,
  isDisabled,
  className,
}: CheckBoxProps) {
  return (
    <CheckboxField
      isSelected={isSelected}
      onChange={onChange}
      {...(isDisabled === undefined ? {} : { isDisabled })}
      className={['ov-checkbox', className].filter(Boolean).join(' ')}
    >
      <CheckboxButton className="ov-checkbox__button">
        <span className="ov-checkbox__box" aria-hidden="true">
          {isSelected ? '✓' : ''}
        </span>
        <span className="ov-checkbox__label">{children}</span>
      </CheckboxButton>
      {description ? (
        <Text slot="description" className="ov-field__description">
          {description}
        </Text>
      ) : null}
    </CheckboxField>
  );
}
