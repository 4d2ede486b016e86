import type { Key, ReactNode } from 'react';
import {
  Button as AriaButton,
  Select as AriaSelect,
  FieldError,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  SelectValue,
  Text,
} from 'react-aria-components';

export interface SelectOption<K extends string = string> {
  id: K;
  label: string;
}

export interface SelectProps<K extends string = string> {
  label: ReactNode;
  options: readonly SelectOption<K>[];
  value: K | null;
  onChange: (value: K) => void;
  placeholder?: string;
  description?: ReactNode;
  errorMessage?: string | null | undefined;
  isDisabled?: boolean;
  isRequired?: boolean;
  autoFocus?: boolean;
  name?: string;
  className?: string | undefined;
}

/** A labelled drop-down list (keyboard: arrows, type-ahead, Enter; touch: large rows). */
export function Select<K extends string = string>({
  label,
  options,
  value,
  onChange,
  placeholder,
  description,
  errorMessage,
  isDisabled,
  isRequired,
  autoFocus,
  name,
  className,
}: SelectProps<K>) {
  return (
    <AriaSelect
      value={value}
      onChange={(key: Key | null) => {
        if (key !== null) onChange(String(key) as K);
      }}
      isInvalid={Boolean(errorMessage)}
      validationBehavior="aria"
      {...(placeholder === undefined ? {} : { placeholder })}
      {...(isDisabled === undefined ? {} : { isDisabled })}
      {...(isRequired === undefined ? {} : { isRequired })}
      {...(autoFocus === undefined ? {} : { autoFocus })}
      {...(name === undefined ? {} : { name })}
      className={['ov-field', 'ov-select', className].filter(Boolean).join(' ')}
    >
      <Label className="ov-field__label">{label}</Label>
      <AriaButton className="ov-select__button">
        <SelectValue className="ov-select__value" />
        <span className="ov-select__chevron" aria-hidden="true">
          ▾
        </span>
      </AriaButton>
      {description ? (
        <Text slot="description" className="ov-field__description">
          {description}
        </Text>
      ) : null}
      <FieldError className="ov-field__error">{errorMessage}</FieldError>
      <Popover className="ov-popover">
        <ListBox className="ov-listbox" items={options}>
          {(option) => (
            <ListBoxItem id={option.id} textValue={option.label} className="ov-listbox__item">
              {option.label}
            </ListBoxItem>
          )}
        </ListBox>
      </Popover>
    </AriaSelect>
  );
}
