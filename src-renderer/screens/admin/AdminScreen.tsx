import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../app/session.tsx';
import { PageHeader } from '../../components/index.ts';
import { CustomersTab } from './CustomersTab.tsx';
import { DevicesTab } from './DevicesTab.tsx';
import { FloatTab } from './FloatTab.tsx';
import { ImportTab } from './ImportTab.tsx';
import { MaintenanceTab } from './MaintenanceTab.tsx';
import { MetersTab } from './MetersTab.tsx';
import { OperatorsTab } from './OperatorsTab.tsx';
import { OutletTab } from './OutletTab.tsx';
import { type ScreenTab, ScreenTabs } from './ScreenTabs.tsx';
import { TariffsTab } from './TariffsTab.tsx';
import './admin.css';

type Section =
  | 'meters'
  | 'customers'
  | 'import'
  | 'tariffs'
  | 'operators'
  | 'outlet'
  | 'float'
  | 'devices'
  | 'maintenance';

/**
 * Administration in tabs. Each operator sees only the tabs they may use: master data (meters, customers, import,
 * tariffs, operators) is for administrators; outlet and float can be viewed by a supervisor too (changes need an
 * administrator); backup and the audit check need the audit permission.
 */
export function AdminScreen() {
  const { t } = useTranslation('admin');
  const { can } = useSession();
  const master = can('masterData');
  const tabs: ScreenTab<Section>[] = [];
  if (master) {
    tabs.push(
      { id: 'meters', label: t('tab.meters'), content: <MetersTab /> },
      { id: 'customers', label: t('tab.customers'), content: <CustomersTab /> },
      { id: 'import', label: t('tab.import'), content: <ImportTab /> },
      { id: 'tariffs', label: t('tab.tariffs'), content: <TariffsTab /> },
      { id: 'operators', label: t('tab.operators'), content: <OperatorsTab /> },
    );
  }
  if (master || can('audit')) {
    tabs.push(
      { id: 'outlet', label: t('tab.outlet'), content: <OutletTab /> },
      { id: 'float', label: t('tab.float'), content: <FloatTab /> },
    );
  }
  // Device settings: for whoever may set devices (devices.configure needs masterData).
  if (master) tabs.push({ id: 'devices', label: t('tab.devices'), content: <DevicesTab /> });
  if (can('audit'))
    tabs.push({ id: 'maintenance', label: t('tab.maintenance'), content: <MaintenanceTab /> });

  const [section, setSection] = useState<Section>(tabs[0]?.id ?? 'meters');
  const selected = tabs.some((tab) => tab.id === section) ? section : (tabs[0]?.id ?? 'meters');
  return (
    <div className="ov-admin">
      <PageHeader title={t('title')} description={master ? t('description') : t('descriptionSupervisor')} />
      <ScreenTabs label={t('tab.label')} tabs={tabs} selectedKey={selected} onSelectionChange={setSection} />
    </div>
  );
}
