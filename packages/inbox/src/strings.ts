/**
 * The component's own words, per locale. A host picks a locale (`locale="fr"`) and may override
 * any string (`el.strings = { title: "Alerts" }`). `{count}`, `{title}` and `{label}` are filled in.
 */
export type InboxStrings = {
  title: string;
  bell: string;
  bellUnread: string;
  tabs: string;
  all: string;
  unread: string;
  archived: string;
  markAllRead: string;
  markRead: string;
  markUnread: string;
  archive: string;
  unarchive: string;
  snooze: string;
  snoozeHour: string;
  snoozeTomorrow: string;
  snoozeWeek: string;
  close: string;
  empty: string;
  emptyUnread: string;
  emptyArchived: string;
  newItem: string;
  reconnecting: string;
  signedOut: string;
  done: string;
  itemActions: string;
};

const en: InboxStrings = {
  title: "Notifications",
  bell: "Notifications",
  bellUnread: "Notifications, {count} unread",
  tabs: "Filter notifications",
  all: "All",
  unread: "Unread",
  archived: "Archived",
  markAllRead: "Mark all as read",
  markRead: "Mark as read",
  markUnread: "Mark as unread",
  archive: "Archive",
  unarchive: "Move to inbox",
  snooze: "Snooze",
  snoozeHour: "For 1 hour",
  snoozeTomorrow: "Until tomorrow",
  snoozeWeek: "For a week",
  close: "Close",
  empty: "No notifications yet.",
  emptyUnread: "You're all caught up.",
  emptyArchived: "Nothing archived.",
  newItem: "New notification: {title}",
  reconnecting: "Reconnecting…",
  signedOut: "You are signed out. Sign in again to see your notifications.",
  done: "{label} ✓",
  itemActions: "Actions for {title}",
};

const fr: InboxStrings = {
  title: "Notifications",
  bell: "Notifications",
  bellUnread: "Notifications, {count} non lues",
  tabs: "Filtrer les notifications",
  all: "Toutes",
  unread: "Non lues",
  archived: "Archivées",
  markAllRead: "Tout marquer comme lu",
  markRead: "Marquer comme lue",
  markUnread: "Marquer comme non lue",
  archive: "Archiver",
  unarchive: "Remettre dans la boîte",
  snooze: "Reporter",
  snoozeHour: "D'une heure",
  snoozeTomorrow: "À demain",
  snoozeWeek: "D'une semaine",
  close: "Fermer",
  empty: "Aucune notification pour l'instant.",
  emptyUnread: "Vous êtes à jour.",
  emptyArchived: "Rien d'archivé.",
  newItem: "Nouvelle notification : {title}",
  reconnecting: "Reconnexion…",
  signedOut: "Vous êtes déconnecté. Reconnectez-vous pour voir vos notifications.",
  done: "{label} ✓",
  itemActions: "Actions pour {title}",
};

const de: InboxStrings = {
  title: "Benachrichtigungen",
  bell: "Benachrichtigungen",
  bellUnread: "Benachrichtigungen, {count} ungelesen",
  tabs: "Benachrichtigungen filtern",
  all: "Alle",
  unread: "Ungelesen",
  archived: "Archiviert",
  markAllRead: "Alle als gelesen markieren",
  markRead: "Als gelesen markieren",
  markUnread: "Als ungelesen markieren",
  archive: "Archivieren",
  unarchive: "Zurück in den Posteingang",
  snooze: "Später erinnern",
  snoozeHour: "In 1 Stunde",
  snoozeTomorrow: "Morgen",
  snoozeWeek: "In einer Woche",
  close: "Schließen",
  empty: "Noch keine Benachrichtigungen.",
  emptyUnread: "Alles gelesen.",
  emptyArchived: "Nichts archiviert.",
  newItem: "Neue Benachrichtigung: {title}",
  reconnecting: "Verbindung wird wiederhergestellt…",
  signedOut: "Sie sind abgemeldet. Melden Sie sich erneut an, um Ihre Benachrichtigungen zu sehen.",
  done: "{label} ✓",
  itemActions: "Aktionen für {title}",
};

export const LOCALES: Record<string, InboxStrings> = { en, fr, de };

/** The locale's strings (by language if the region is unknown, else English), with overrides. */
export function stringsFor(locale: string | undefined, overrides: Partial<InboxStrings> = {}): InboxStrings {
  const tag = (locale ?? "en").toLowerCase();
  return { ...(LOCALES[tag] ?? LOCALES[tag.split("-")[0]!] ?? en), ...overrides };
}

export const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
