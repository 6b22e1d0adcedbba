/** QR login's pure parts, without services: the number-matching draw and the session's table. */
import assert from 'node:assert/strict';
import { numberChoices } from './qr-login.js';
import { qrLoginMachine } from './qr-login-machine.js';

describe('QR login rules', () => {
  it('numberChoices: three distinct two-digit strings, the shown one among them', () => {
    for (let i = 0; i < 100; i++) {
      const { match, choices } = numberChoices();
      assert.equal(new Set(choices).size, 3);
      for (const c of choices) assert.match(c, /^\d{2}$/);
      assert.ok(choices.includes(match));
    }
  });

  it('the table: a device answers a pending session once; the backend reads an outcome once', () => {
    assert.equal(qrLoginMachine.next('approve', 'pending', 'device'), 'approved');
    assert.equal(qrLoginMachine.next('mismatch', 'pending', 'device'), 'denied');
    assert.equal(qrLoginMachine.can('approve', 'approved', 'device'), false);
    assert.equal(qrLoginMachine.can('consume', 'approved', 'device'), false);
    assert.equal(qrLoginMachine.next('consume', 'denied', 'backend'), 'consumed');
    assert.equal(qrLoginMachine.can('consume', 'pending', 'backend'), false);
  });
});
