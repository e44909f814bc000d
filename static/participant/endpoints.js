// The participant API's endpoints, over the shared client (static/shared/api.js).
import { del, get, patch, post, put } from "../shared/api.js";

const BASE = "/api/v1/p";

export const api = {
  openSession: (token, secondFactor) =>
    post(`${BASE}/session`, secondFactor ? { token, second_factor: secondFactor } : { token }),
  session: () => get(`${BASE}/session`),
  home: () => get(`${BASE}/home`),
  assessment: (id, lang) => get(`${BASE}/assessments/${id}?lang=${encodeURIComponent(lang)}`),
  saveDraft: (id, body) => patch(`${BASE}/assessments/${id}/draft`, body),
  submit: (id, body) => post(`${BASE}/assessments/${id}/submission`, body),
  notifications: () => get(`${BASE}/notifications`),
  subscribePush: (subscription) => put(`${BASE}/notifications/subscription`, subscription),
  unsubscribePush: (endpoint) => del(`${BASE}/notifications/subscription`, { endpoint }),
  setChannels: (channels) => put(`${BASE}/notifications/channels`, { reminder_channels: channels }),
  calendarUrl: (visit, lang) => `${visit.calendar_url}?lang=${encodeURIComponent(lang)}`,
};
