// Faster paths through rp2040js's bus for the accesses firmware makes most, with the same results.
//
// `RP2040.writeUint32` looks the address up in its peripheral table before it checks for SRAM; the table is a
// sparse object keyed by numbers, so every SRAM store (stack pushes, locals, arrays) pays a dictionary lookup.
// Profiling the lesson firmware's `bench sort 1000` put ~10 % of host time there.

import { RAM_BASE } from './rp2040_image.mjs';

/** Let 32-bit SRAM stores skip the peripheral lookup (SRAM is never a peripheral, so nothing else changes). */
export function installFastSramWrites(mcu) {
  const { sram, sramView } = mcu;
  const ramEnd = RAM_BASE + sram.length;
  const slowWrite = mcu.writeUint32.bind(mcu);
  mcu.writeUint32 = (address, value) => {
    address >>>= 0;
    if (address >= RAM_BASE && address + 3 < ramEnd) {
      sramView.setUint32(address - RAM_BASE, value, true);
      return;
    }
    slowWrite(address, value);
  };
}
