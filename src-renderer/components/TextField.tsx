import type { KeyboardEventHandler, ReactNode, Ref } from 'react';
import {
  TextField as AriaTextField,
  type TextFieldProps as AriaTextFieldProps,
  FieldError,
  Input,
  Label,
  Text,
} from 'react-aria-components';

export interface TextFieldProps
  extends Omit<AriaTextFieldProps, 'className' | 'children' | 'style' | 'isInvalid' | 'validate'> {
  label: ReactNode;
  description?: ReactNode;
  /** Shown under the field and marks it invalid (aria-invalid, aria-describedby). */
  errorMessage?: string | null | undefined;
  placeholder?: string;
  /** e.g. 'ov-input--large ov-input--mono' for meter and token numbers. */
  inputClassName?: string;
  className?: string | undefined;
  inputRef?: Ref<HTMLInputElement>;
  onInputKeyDown?: KeyboardEventHandler<HTMLInputElement>;
}

/** A labelled text input with description and error message, all wired for screen readers. */
export function TextField({
  label,
  description,
  errorMessage,
  placeholder,
  inputClassName,
  className,
  inputRef,
  onInputKeyDown,
  ...rest
}: TextFieldProps) {
  const invalid = Boolean(errorMessage);
  return (
    <AriaTextField
      validationBehavior="aria"
      {...rest}
      isInvalid={invalid}
      className={['ov-field', className].filter(Boolean).join(' ')}
    >
      <Label className="ov-field__label">{label}</Label>
      <Input
        ref={inputRef}
        className={['ov-input', inputClassName].filter(Boolean).join(' ')}
        {...(placeholder === undefined ? {} : { placeholder })}
        {...(onInputKeyDown ? { onKeyDown: onInputKeyDown } : {})}
      />
      {description ? (
        <Text slot="description" className="ov-field__description">
          {description}
        </Text>
      ) : null}
      <FieldError className="ov-field__error">{errorMessage}</FieldError>
    </AriaTextField>
  );
}
