// The USB host side of the simulated Pico's USB CDC serial port.
//
// rp2040js emulates the RP2040's USB controller in device mode; something has to play the host: reset the bus,
// assign an address, read the configuration descriptor, set the configuration, raise DTR, then move bulk data.
// rp2040js's own `USBCDC` does this, but answers every OUT poll at once (a zero-length packet when it has no
// data, which keeps a polling firmware busy re-arming its endpoint), addresses SET_CONTROL_LINE_STATE to the
// device instead of the interface (usbd-serial ignores it, so DTR never rises) and drops bytes past 512. This host
// NAKs an OUT endpoint until it has data, sends the CDC class request to the communication interface, and keeps
// host-to-device bytes queued (bounded) until the port is open (configured, DTR raised) and the firmware asks
// for them.
//
// After SET_ADDRESS the host waits the SetAddress recovery interval (USB 2.0 section 9.2.6.3: 2 ms) before its
// next request, as a real host does. Sent at once, that request's SETUP can reach a firmware that has not yet
// polled the status stage's IN completion; usb-device then sees both in one poll, ignores the completion, never
// applies the address, and applies it later over the Configured state, which leaves the CDC port dead.

import { createSetupPacket, DataDirection, DescriptorType, getDescriptorPacket, SetupRecipient,
  SetupType, setDeviceAddressPacket, setDeviceConfigurationPacket } from 'rp2040js';

const DEVICE_ADDRESS = 1;
const CONFIGURATION_VALUE = 1;
const CONFIG_DESCRIPTOR_HEADER_BYTES = 9;
const INTERFACE_DESCRIPTOR_BYTES = 9;
const ENDPOINT_DESCRIPTOR_BYTES = 7;
const USB_CLASS_CDC = 0x02;
const USB_CLASS_CDC_DATA = 0x0a;
const ENDPOINT_TYPE_BULK = 2;
const CDC_SET_CONTROL_LINE_STATE = 0x22;
const CDC_LINE_DTR_RTS = 0x3;
const FULL_SPEED_BULK_PACKET_BYTES = 64;
const SET_ADDRESS_RECOVERY_NS = 2_000_000;
export const HOST_QUEUE_LIMIT_BYTES = 256 * 1024; // host bytes waiting for the firmware; beyond this they are dropped

export class UsbCdcHost {
  /**
   * `usb` is the RP2040's RPUSBController. `onData(Uint8Array)` gets bytes the firmware sent;
   * `onConfigured()` is called once the device is configured and DTR is raised (the port is open);
   * `onNoSerialPort()` when the configuration has no CDC data interface (e.g. the bootrom's USB boot device).
   */
  constructor(usb, { onData, onConfigured, onNoSerialPort }) {
    this.usb = usb;
    this.onData = onData;
    this.onConfigured = onConfigured;
    this.onNoSerialPort = onNoSerialPort;
    this.configured = false;
    this.portOpen = false; // as on a real host, nothing is sent before the port exists and is opened
    this.descriptorsSize = null;
    this.descriptors = [];
    this.inEndpoint = -1;
    this.outEndpoint = -1;
    this.commInterface = 0;
    // OUT endpoints the firmware armed, and for how many bytes. A firmware may arm its endpoints at bus reset,
    // before the configuration descriptor says which one is the CDC data OUT endpoint: remember them all.
    this.armedOutBytes = new Map();
    this.queue = [];
    this.queuedBytes = 0;
    this.droppedBytes = 0;
    // virtual time, on the chip's clock
    this.recovery = usb.rp2040.clock.createAlarm(() => {
      this.usb.sendSetupPacket(getDescriptorPacket(DescriptorType.Configration, CONFIG_DESCRIPTOR_HEADER_BYTES));
    });
    usb.onUSBEnabled = () => usb.resetDevice();
    usb.onResetReceived = () => usb.sendSetupPacket(setDeviceAddressPacket(DEVICE_ADDRESS));
    usb.onEndpointWrite = (endpoint, buffer) => this.endpointWrite(endpoint, buffer);
    usb.onEndpointRead = (endpoint, size) => {
      if (endpoint !== 0) {
        this.armedOutBytes.set(endpoint, size);
        this.pump();
      }
    };
  }

  endpointWrite(endpoint, buffer) {
    if (endpoint === 0) {
      this.controlIn(buffer);
    } else if (endpoint === this.inEndpoint && buffer.length > 0) {
      this.onData(buffer);
    }
  }

  // Each control transfer's data or status stage arrives here; the next request follows it.
  controlIn(buffer) {
    if (buffer.length === 0) {
      if (this.descriptorsSize === null) {
        // status stage of SET_ADDRESS: the next request follows the recovery interval
        this.recovery.schedule(SET_ADDRESS_RECOVERY_NS);
      } else if (this.descriptors.length === this.descriptorsSize && !this.configured) {
        // status stage of SET_CONFIGURATION: the port is opened (DTR up) as a terminal program would
        this.configured = true;
        this.usb.sendSetupPacket(createSetupPacket({
          dataDirection: DataDirection.HostToDevice,
          type: SetupType.Class,
          recipient: SetupRecipient.Interface,
          bRequest: CDC_SET_CONTROL_LINE_STATE,
          wValue: CDC_LINE_DTR_RTS,
          wIndex: this.commInterface,
          wLength: 0,
        }));
        this.onConfigured?.();
      } else if (this.configured && !this.portOpen) {
        // status stage of SET_CONTROL_LINE_STATE: the port is open, bytes written to it may flow
        this.portOpen = true;
        this.pump();
      }
      return;
    }
    if (this.descriptorsSize === null) {
      if (buffer.length >= CONFIG_DESCRIPTOR_HEADER_BYTES && buffer[1] === DescriptorType.Configration) {
        this.descriptorsSize = buffer[2] | (buffer[3] << 8);
        this.usb.sendSetupPacket(getDescriptorPacket(DescriptorType.Configration, this.descriptorsSize));
      }
      return;
    }
    if (this.descriptors.length < this.descriptorsSize) {
      this.descriptors.push(...buffer);
      if (this.descriptors.length >= this.descriptorsSize) {
        this.descriptors.length = this.descriptorsSize;
        this.parseDescriptors();
        if (this.inEndpoint < 0 || this.outEndpoint < 0) {
          this.onNoSerialPort?.();
          return;
        }
        this.usb.sendSetupPacket(setDeviceConfigurationPacket(CONFIGURATION_VALUE));
        this.pump();
      }
    }
  }

  parseDescriptors() {
    const d = this.descriptors;
    let inDataInterface = false;
    for (let at = 0; at + 1 < d.length && d[at] >= 2; at += d[at]) {
      const length = d[at];
      const type = d[at + 1];
      if (type === DescriptorType.Interface && length === INTERFACE_DESCRIPTOR_BYTES) {
        const interfaceClass = d[at + 5];
        if (interfaceClass === USB_CLASS_CDC) this.commInterface = d[at + 2];
        inDataInterface = interfaceClass === USB_CLASS_CDC_DATA;
      } else if (inDataInterface && type === DescriptorType.Endpoint && length === ENDPOINT_DESCRIPTOR_BYTES) {
        const address = d[at + 2];
        if ((d[at + 3] & 0x3) === ENDPOINT_TYPE_BULK) {
          if (address & 0x80) this.inEndpoint = address & 0xf;
          else this.outEndpoint = address & 0xf;
        }
      }
    }
  }

  /** Queue bytes from the host's side of the port for the firmware. */
  send(bytes) {
    const room = HOST_QUEUE_LIMIT_BYTES - this.queuedBytes;
    if (bytes.length > room) {
      this.droppedBytes += bytes.length - Math.max(room, 0);
      bytes = bytes.subarray(0, Math.max(room, 0));
    }
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.pump();
  }

  pump() {
    if (!this.portOpen) return;
    const armed = this.armedOutBytes.get(this.outEndpoint);
    if (armed === undefined || this.queuedBytes === 0) return;
    const size = Math.min(armed || FULL_SPEED_BULK_PACKET_BYTES, this.queuedBytes);
    const packet = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const head = this.queue[0];
      const take = Math.min(head.length, size - filled);
      packet.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    this.queuedBytes -= size;
    this.armedOutBytes.delete(this.outEndpoint);
    this.usb.endpointReadDone(this.outEndpoint, packet);
  }
}
