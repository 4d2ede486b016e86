import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/index.ts';
import { type ScreenTab, ScreenTabs } from '../admin/ScreenTabs.tsx';
import { EndOfDayTab } from './EndOfDayTab.tsx';
import { QuarantineTab } from './QuarantineTab.tsx';
import './supervisor.css';

export type SupervisorSection = 'end-of-day' | 'quarantine';

export interface SupervisorScreenProps {
  /** Held by the shell, so the status bar's quarantine count can open the quarantine tab. */
  section: SupervisorSection;
  onSectionChange: (section: SupervisorSection) => void;
}

/** For supervisors: the end of day as head office computed it (online only), and the sync quarantine (local). */
export function SupervisorScreen({ section, onSectionChange }: SupervisorScreenProps) {
  const { t } = useTranslation('supervisor');
  const tabs: ScreenTab<SupervisorSection>[] = [
    { id: 'end-of-day', label: t('tab.endOfDay'), content: <EndOfDayTab /> },
    { id: 'quarantine', label: t('tab.quarantine'), content: <QuarantineTab /> },
  ];
  return (
    <div className="ov-supervisor">
      <PageHeader title={t('title')} description={t('description')} />
      <ScreenTabs
        label={t('tab.label')}
        tabs={tabs}
        selectedKey={section}
        onSelectionChange={onSectionChange}
      />
    </div>
  );
}
