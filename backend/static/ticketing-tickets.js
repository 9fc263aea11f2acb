/* The ticketing pages of the workspace (backend/templates/ticketing/tickets/*.html.jinja): each
   form marked data-api is sent by static/api-forms.js (loaded before this file), the same sender as
   the judging set-up pages; the CSV import's file input is read as text there (data-type="file"). */
(function () {
  "use strict";
  window.PodiumApiForms.start({doneKey: "ticketing-tickets-done", csrf: "tickets-csrf"});
}());
