// One click pays once (templates/payments/checkout.html): the server replays a second submit anyway; disabling the
// button only spares the round trip.
(() => {
  const form = document.getElementById('checkout-form');
  if (form) form.addEventListener('submit', () => { document.getElementById('pay-button').disabled = true; });
})();
