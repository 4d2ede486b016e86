import type { ReactNode } from 'react';
import { Label, RadioButton, RadioField, RadioGroup, Text } from 'react-aria-components';

export interface Choice<K extends string> {
  id: K;
  label: string;
  description?: string;
}

export interface ChoiceGroupProps<K extends string> {
  label: ReactNode;
  choices: readonly Choice<K>[];
  value: K;
  onChange: (value: K) => void;
  /** 'cards' lays the choices out as large touch targets in a grid; 'inline' as a row. */
  layout?: 'cards' | 'inline';
  className?: string | undefined;
}

/**
 * A labelled set of radio choices (arrow keys move, touch targets ≥ 44 px). Not among the shared components, so
 * it lives here; it is generic and could move to components/ when another screen needs it.
 */
export function ChoiceGroup<K extends string>({
  label,
  choices,
  value,
  onChange,
  layout = 'cards',
  className,
}: ChoiceGroupProps<K>) {
  return (
    <RadioGroup
      value={value}
      onChange={(next) => onChange(next as K)}
      className={['ov-choices', `ov-choices--${layout}`, className].filter(Boolean).join(' ')}
    >
      <Label className="ov-field__label">{label}</Label>
      <div className="ov-choices__list">
        {choices.map((choice) => (
          <RadioField key={choice.id} value={choice.id} className="ov-choice">
            <RadioButton className="ov-choice__button">
              <span className="ov-choice__dot" aria-hidden="true" />
              <span className="ov-choice__label">{choice.label}</span>
            </RadioButton>
            {choice.description ? (
              <Text slot="description" className="ov-choice__description">
                {choice.description}
              </Text>
            ) : null}
          </RadioField>
        ))}
      </div>
    </RadioGroup>
  );
}
