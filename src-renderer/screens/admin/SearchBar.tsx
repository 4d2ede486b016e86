import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button, TextField } from '../../components/index.ts';

export const PAGE_SIZE = 20;

/** The arguments of a paged list call (meters.list, customers.list). */
export interface PagedArgs {
  query: string;
  limit: number;
  offset: number;
}

export const FIRST_PAGE: PagedArgs = { query: '', limit: PAGE_SIZE, offset: 0 };

export interface SearchBarProps {
  label: string;
  description?: string;
  onSearch: (query: string) => void;
}

/** A search field with Search (Enter) and Clear; the list below is searched only when asked. */
export function SearchBar({ label, description, onSearch }: SearchBarProps) {
  const { t } = useTranslation('admin');
  const [text, setText] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form className="ov-admin-search" noValidate onSubmit={submit}>
      <TextField
        label={label}
        value={text}
        onChange={setText}
        maxLength={100}
        autoComplete="off"
        {...(description ? { description } : {})}
      />
      <div className="ov-admin-search__buttons">
        <Button type="submit" variant="primary">
          {t('search.submit')}
        </Button>
        <Button
          onPress={() => {
            setText('');
            onSearch('');
          }}
        >
          {t('search.clear')}
        </Button>
      </div>
    </form>
  );
}
