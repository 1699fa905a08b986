// Drives the emulated W25Q16 (hil/sim/node/rp2040_qspi_flash.mjs) on a clock the script sets, and prints one JSON
// line of what it saw: status BUSY over an erase and a page program, and commands sent while busy.
import { FLASH_BYTES, W25Q16 } from '../../hil/sim/node/rp2040_qspi_flash.mjs';

const NANOS_PER_MS = 1e6;
let now = 0;
const data = new Uint8Array(FLASH_BYTES).fill(0);
const chip = new W25Q16(data, new Uint8Array(8), () => {}, () => now);

function command(...bytes) {
  chip.select();
  const answer = bytes.map((b) => chip.transfer(b));
  chip.deselect();
  return answer;
}
const busy = () => (command(0x05, 0)[1] & 0x01) === 1;
const writeEnable = () => command(0x06);

const seen = {};
writeEnable();
command(0x20, 0x00, 0x10, 0x00); // erase the sector at 0x1000
seen.erased = data[0x1000] === 0xff && data[0x1fff] === 0xff && data[0x0fff] === 0 && data[0x2000] === 0;
seen.busy_after_erase = busy();
writeEnable();
command(0x20, 0x00, 0x30, 0x00); // erase at 0x3000 while busy: ignored
seen.erase_while_busy_ignored = data[0x3000] === 0;
now = 44.9 * NANOS_PER_MS;
seen.busy_at_44_9_ms = busy();
now = 45.1 * NANOS_PER_MS;
seen.busy_at_45_1_ms = busy();
seen.write_enable_latch_after_erase = (command(0x05, 0)[1] & 0x02) !== 0;
writeEnable();
command(0x02, 0x00, 0x10, 0x00, 0x5a); // program one byte at 0x1000
seen.programmed = data[0x1000] === 0x5a;
seen.busy_after_program = busy();
now += 0.41 * NANOS_PER_MS;
seen.busy_0_41_ms_after_program = busy();
writeEnable();
command(0x20); // an erase without its address: the chip does nothing
seen.busy_after_incomplete_erase = busy();
process.stdout.write(JSON.stringify(seen) + '\n');
