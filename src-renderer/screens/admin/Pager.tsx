import { useTranslation } from 'react-i18next';
import { Button } from '../../components/index.ts';

export interface PagerProps {
  offset: number;
  shown: number;
  total: number;
  pageSize: number;
  onOffsetChange: (offset: number) => void;
  /** What the rows are, for the count line, e.g. "meters". */
  label: string;
}

/** "Rows 1–25 of 240" and previous / next page buttons under a paged table. */
export function Pager({ offset, shown, total, pageSize, onOffsetChange, label }: PagerProps) {
  const { t } = useTranslation('admin');
  return (
    <div className="ov-admin-pager">
      <p className="ov-admin-pager__count" aria-live="polite">
        {total === 0
          ? t('pager.none')
          : t('pager.range', { from: offset + 1, to: offset + shown, total, what: label })}
      </p>
      <div className="ov-admin-pager__buttons">
        <Button isDisabled={offset === 0} onPress={() => onOffsetChange(Math.max(0, offset - pageSize))}>
          {t('pager.previous')}
        </Button>
        <Button isDisabled={offset + shown >= total} onPress={() => onOffsetChange(offset + pageSize)}>
          {t('pager.next')}
        </Button>
      </div>
    </div>
  );
}
